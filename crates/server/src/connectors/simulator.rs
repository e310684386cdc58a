//! The demo's simulated channel: a reply really goes to the traffic simulator (`demo.rs`), which
//! registered a mailbox for each simulated inbox, and which then reports it delivered and read as
//! a customer's phone would. With no simulator running the reply waits (a transient failure) and
//! finally fails: it is never marked sent having gone nowhere.

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
};

use async_trait::async_trait;
use switchboard_proto::{Channel, Id};
use tokio::sync::mpsc;

use super::{Capabilities, Connector, Outgoing, SendError, Sent};

/// A reply the simulated customer receives.
#[derive(Debug, Clone)]
pub struct SimulatedReply {
    pub inbox_id: Id,
    pub message_id: Id,
    pub to: Option<String>,
    pub body: String,
}

/// The simulators' mailboxes by inbox id (inbox ids are unique, so demos in one process, as in
/// the test suite, never see each other's replies).
fn mailboxes() -> &'static Mutex<HashMap<Id, mpsc::UnboundedSender<SimulatedReply>>> {
    static MAILBOXES: OnceLock<Mutex<HashMap<Id, mpsc::UnboundedSender<SimulatedReply>>>> = OnceLock::new();
    MAILBOXES.get_or_init(Default::default)
}

/// The simulator takes the replies of these inboxes from now on.
pub fn register(inboxes: &[Id]) -> mpsc::UnboundedReceiver<SimulatedReply> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let mut mailboxes = mailboxes().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for inbox in inboxes {
        mailboxes.insert(*inbox, sender.clone());
    }
    receiver
}

pub struct SimulatorConnector;

/// The simulated customer reads anything; it says it is simulated.
pub fn capabilities() -> Capabilities {
    Capabilities {
        reply_window_ms: None,
        max_body_chars: None,
        attachment_limits: vec![("", Channel::Api.attachment_limit())],
        templates: true,
        simulated: true,
    }
}

#[async_trait]
impl Connector for SimulatorConnector {
    fn kind(&self) -> &'static str {
        "simulator"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    async fn send(&self, outgoing: &Outgoing) -> Result<Sent, SendError> {
        let reply = SimulatedReply {
            inbox_id: outgoing.inbox_id,
            message_id: outgoing.message.id,
            to: outgoing.to.clone(),
            body: outgoing.message.body.clone(),
        };
        let mut mailboxes = mailboxes().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(mailbox) = mailboxes.get(&outgoing.inbox_id) else {
            return Err(SendError::transient("the demo's traffic simulator is not running"));
        };
        if mailbox.send(reply).is_err() {
            mailboxes.remove(&outgoing.inbox_id);
            return Err(SendError::transient("the demo's traffic simulator stopped"));
        }
        Ok(Sent::default())
    }
}
