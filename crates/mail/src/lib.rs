//! Mail: a message composed once ([`compose`]) and delivered later by a [`Mailer`], over SMTP or,
//! on a machine without a mail server, as a file a person can open.
//!
//! - SMTP (`smtp://user:password@host:port`): STARTTLS whenever the server offers it (`?tls=required`
//!   refuses a server that does not), `smtps://` for implicit TLS; the server's certificate is
//!   checked against the web's roots and, for a private relay, one more authority.
//! - A folder: one RFC 5322 `.eml` file per message, readable by its owner alone (it may hold a
//!   link's secret).
//!
//! A failed delivery says whether trying again could help ([`Failure::permanent`]), and why, in
//! words that never include the message.

pub use lettre::Address;
pub use lettre::message::Mailbox;

use lettre::address::{AddressError, Envelope};
use lettre::message::MultiPart;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest one delivery may take, from connecting to the server's last answer. lettre's own
/// timeout bounds only the connection.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// A message ready to go: whom the envelope names, and the message's RFC 5322 text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub recipient: String,
    pub message: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("not an email address: {0}")]
    Address(#[from] AddressError),
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
}

/// A message from `from` to `to` with a plain-text part and an HTML part of the same content.
pub fn compose(
    from: &Mailbox,
    to: &str,
    subject: &str,
    text: String,
    html: String,
) -> Result<Outgoing, ComposeError> {
    let to: Address = to.parse()?;
    let message = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to.clone()))
        .subject(subject)
        .message_id(None)
        .multipart(MultiPart::alternative_plain_html(text, html))?;
    Ok(Outgoing {
        recipient: to.to_string(),
        message: message.formatted(),
    })
}

/// Why a mailer cannot be made from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("{0}")]
    Url(String),
    #[error("cannot read the certificate authority: {0}")]
    Authority(String),
}

/// A delivery that did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Trying again cannot help: the server refused the message or the recipient for good (5xx).
    pub permanent: bool,
    pub reason: String,
}

impl Failure {
    fn transient(reason: impl Into<String>) -> Self {
        Self {
            permanent: false,
            reason: reason.into(),
        }
    }
}

/// Where messages go.
pub enum Mailer {
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// The envelope's sender (`MAIL FROM`).
        sender: Address,
        /// `host:port`, for the log: the URL without its credentials.
        server: String,
    },
    Folder(PathBuf),
}

impl Mailer {
    /// Over SMTP, to the server `url` names, as `sender`; `authority` is a PEM certificate to
    /// trust besides the web's roots (a private relay's).
    pub fn smtp(url: &str, sender: Address, authority: Option<&[u8]>) -> Result<Self, MailerError> {
        let invalid = |reason: &str| MailerError::Url(reason.to_owned());
        let parsed = url::Url::parse(url).map_err(|_| invalid("is not a URL"))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| invalid("names no host"))?
            .to_owned();
        let server = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        let mut tls = TlsParameters::builder(host);
        if let Some(pem) = authority {
            let certificate =
                Certificate::from_pem(pem).map_err(|e| MailerError::Authority(e.to_string()))?;
            tls = tls.add_root_certificate(certificate);
        }
        let tls = tls
            .build()
            .map_err(|e| MailerError::Authority(e.to_string()))?;
        let required = parsed
            .query_pairs()
            .any(|(key, value)| key == "tls" && value == "required");
        // lettre reads the scheme, port, credentials and `tls=`; but where a plain `smtp://`
        // would mean no encryption at all to it, here it means STARTTLS when offered.
        let tls = match parsed.scheme() {
            "smtps" => Tls::Wrapper(tls),
            _ if required => Tls::Required(tls),
            _ => Tls::Opportunistic(tls),
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailerError::Url(e.to_string()))?
            .tls(tls)
            .timeout(Some(DELIVERY_TIMEOUT))
            .build()
            .into();
        Ok(Self::Smtp {
            transport,
            sender,
            server,
        })
    }

    /// As files in `folder`, made (for its owner alone) when it does not exist.
    pub fn folder(folder: impl Into<PathBuf>) -> Self {
        Self::Folder(folder.into())
    }

    /// Delivers `outgoing`, or says why it could not.
    pub async fn deliver(&self, outgoing: &Outgoing) -> Result<(), Failure> {
        match self {
            Self::Smtp {
                transport, sender, ..
            } => {
                let recipient: Address = outgoing.recipient.parse().map_err(|e| Failure {
                    permanent: true,
                    reason: format!("not an email address: {e}"),
                })?;
                let envelope =
                    Envelope::new(Some(sender.clone()), vec![recipient]).map_err(|e| Failure {
                        permanent: true,
                        reason: format!("no envelope: {e}"),
                    })?;
                let sent = tokio::time::timeout(
                    DELIVERY_TIMEOUT,
                    transport.send_raw(&envelope, &outgoing.message),
                )
                .await
                .map_err(|_| Failure::transient("the mail server took too long"))?;
                sent.map(drop).map_err(|e| Failure {
                    permanent: e.is_permanent(),
                    reason: e.to_string(),
                })
            }
            Self::Folder(folder) => write_file(folder, &outgoing.message).map_err(|e| {
                Failure::transient(format!("cannot write to {}: {e}", folder.display()))
            }),
        }
    }

    /// Where the messages go, for the start-up log: the server's address, never its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp { server, .. } => format!("the SMTP server at {server}"),
            Self::Folder(folder) => format!("files in {}", folder.display()),
        }
    }
}

/// Writes `message` to a new `.eml` file in `folder`, whole or not at all: it is written under a
/// hidden name, then renamed.
fn write_file(folder: &Path, message: &[u8]) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)?;
    // Seconds since the epoch first, so that a listing of the folder is in the order of sending.
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let name = format!("{seconds}-{}.eml", uuid::Uuid::new_v4().simple());
    let partial = folder.join(format!(".{name}"));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)?;
    file.write_all(message)?;
    file.sync_all()?;
    fs::rename(&partial, folder.join(name))
}
