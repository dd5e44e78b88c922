//! Intake (IN-1…IN-4): customers and their identities, conversations and messages from staff
//! and from the public widget API.

pub(crate) mod conversations;
pub(crate) mod customers;
pub(crate) mod ingest;
mod public;
pub(crate) mod snapshot;
pub mod uploads;

pub use conversations::{ConversationPatch, NewConversation, NewMessage};
pub use customers::{CustomerPatch, NewCustomer};
pub use public::{Chat, Hello, Tracking};
pub use uploads::{ChatFile, FileReader};
