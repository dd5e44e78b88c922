//! Messages the system itself writes into a ticket's conversation, inside the caller's
//! transaction: internal notes that alert staff (an overdue compensation report or
//! collaboration request) and public notices that tell the customer of a stage change (TK-8).

use domain::{
    Actor, Audience, Event, Message, MessageId, SenderKind, Ticket, Timestamp, Visibility,
};

use crate::{App, Result, intake::snapshot};

impl App {
    /// Writes a system message on the ticket's conversation, audited and announced like any
    /// other message; an internal one never reaches the customer.
    pub(crate) async fn system_message(
        &self,
        tx: &mut db::WriteTx,
        t: &Ticket,
        visibility: Visibility,
        body: String,
        now: Timestamp,
    ) -> Result<Message> {
        let m = Message {
            id: self.ids.next(now, MessageId::new),
            workspace: t.workspace,
            conversation: t.conversation,
            sender: SenderKind::System,
            author: None,
            visibility,
            body,
            attachments: Vec::new(),
            created_at: now,
        };
        db::conversations::insert_message(tx, &m, None).await?;
        tx.audit(
            now,
            Actor::System,
            "message.create",
            "message",
            &m.id.to_string(),
            None,
            Some(&snapshot::message(&m)),
        )
        .await?;
        let audience = Audience {
            customer: (visibility == Visibility::Public).then_some(t.customer),
            team: t.team,
            assignee: t.assignee,
            internal: visibility == Visibility::Internal,
        };
        let e = Event::MessageCreated {
            conversation: t.conversation,
            message: m.id,
            sender: m.sender,
            visibility,
        };
        tx.emit(now, Actor::System, e, audience).await?;
        Ok(m)
    }
}
