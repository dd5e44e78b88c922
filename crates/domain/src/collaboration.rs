//! Cross-department collaboration (TK-6): a request from a ticket to a department with a
//! question and a due time; the department's progress updates and its answer are recorded on
//! the ticket. Department staff see only requests addressed to their department, and of the
//! ticket only what [`mask_contact`] and the app's department view let through (PL-1).

use crate::{
    CollaborationId, Department, ParseError, TicketId, Timestamp, UserId, WorkspaceId, named_enum,
};

named_enum! {
    pub enum CollaborationStatus("status") {
        Open = "open",
        Completed = "completed",
    }
}

named_enum! {
    /// Which change a collaboration event reports.
    pub enum CollaborationChange("change") {
        Requested = "requested",
        Updated = "updated",
        Completed = "completed",
        Overdue = "overdue",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collaboration {
    pub id: CollaborationId,
    pub workspace: WorkspaceId,
    pub ticket: TicketId,
    pub department: Department,
    pub question: String,
    pub due_at: Timestamp,
    pub status: CollaborationStatus,
    /// Set by the due timer when the department had not answered in time.
    pub overdue: bool,
    pub requested_by: Option<UserId>,
    pub answer: Option<String>,
    pub completed_by: Option<UserId>,
    pub completed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A progress note from the department (or the requester), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollaborationUpdate {
    pub collaboration: CollaborationId,
    pub author: Option<UserId>,
    pub body: String,
    pub at: Timestamp,
}

/// Why a collaboration change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollaborationError {
    #[error("this collaboration request is already completed")]
    Completed,
}

/// A due time must lie after now and within 30 days.
pub fn check_due(due_at: Timestamp, now: Timestamp) -> Result<Timestamp, ParseError> {
    if due_at <= now {
        return Err(ParseError::new("due_at", "must be in the future"));
    }
    if due_at > now.plus_days(30) {
        return Err(ParseError::new("due_at", "must be within 30 days"));
    }
    Ok(due_at)
}

impl Collaboration {
    pub fn add_update(&mut self, now: Timestamp) -> Result<(), CollaborationError> {
        if self.status == CollaborationStatus::Completed {
            return Err(CollaborationError::Completed);
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn complete(
        &mut self,
        by: Option<UserId>,
        answer: String,
        now: Timestamp,
    ) -> Result<(), CollaborationError> {
        self.add_update(now)?;
        self.status = CollaborationStatus::Completed;
        self.answer = Some(answer);
        self.completed_by = by;
        self.completed_at = Some(now);
        Ok(())
    }

    /// The due timer fired: overdue if still open at the due time it was set for. Returns
    /// whether anything changed; a stale timer (the due time moved) changes nothing.
    pub fn due_timer(&mut self, due_at: Timestamp, now: Timestamp) -> bool {
        if self.status == CollaborationStatus::Open
            && !self.overdue
            && self.due_at == due_at
            && now >= due_at
        {
            self.overdue = true;
            self.updated_at = now;
            true
        } else {
            false
        }
    }
}

/// A customer contact as a department may see it: `139****5678`, `z***@example.com`.
pub fn mask_contact(value: &str) -> String {
    if let Some((local, domain)) = value.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= 7 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        "****".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp::from_millis(1_793_581_200_000);

    fn collab() -> Collaboration {
        Collaboration {
            id: CollaborationId::new(T, 1),
            workspace: WorkspaceId::new(T, 2),
            ticket: TicketId::new(T, 3),
            department: Department::Tech,
            question: "请诊断主板故障".into(),
            due_at: T.plus_hours(24),
            status: CollaborationStatus::Open,
            overdue: false,
            requested_by: None,
            answer: None,
            completed_by: None,
            completed_at: None,
            created_at: T,
            updated_at: T,
        }
    }

    #[test]
    fn the_due_timer_fires_once_and_not_after_completion() {
        let mut c = collab();
        assert!(!c.due_timer(T.plus_hours(24), T.plus_hours(23)));
        assert!(!c.due_timer(T.plus_hours(12), T.plus_hours(24)), "stale due time");
        assert!(c.due_timer(T.plus_hours(24), T.plus_hours(24)));
        assert!(!c.due_timer(T.plus_hours(24), T.plus_hours(25)));
        let mut done = collab();
        done.complete(None, "已更换主板".into(), T.plus_hours(1)).unwrap();
        assert!(!done.due_timer(T.plus_hours(24), T.plus_hours(24)));
        assert_eq!(done.add_update(T), Err(CollaborationError::Completed));
        assert_eq!(done.complete(None, "x".into(), T), Err(CollaborationError::Completed));
    }

    #[test]
    fn due_times_are_checked() {
        assert!(check_due(T, T).is_err());
        assert!(check_due(T.plus_days(31), T).is_err());
        assert_eq!(check_due(T.plus_hours(24), T), Ok(T.plus_hours(24)));
    }

    #[test]
    fn contacts_are_masked() {
        assert_eq!(mask_contact("13912345678"), "139****5678");
        assert_eq!(mask_contact("+8613912345678"), "+86****5678");
        assert_eq!(mask_contact("zhang.san@example.com"), "z***@example.com");
        assert_eq!(mask_contact("123"), "****");
    }
}
