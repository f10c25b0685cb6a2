//! Alert webhooks: leads at or above a severity, pushed to the people who work the case
//! queue — 企业微信 and 钉钉 group robots (markdown) or any receiver of plain JSON.
//!
//! Alerting is a side channel and must never cost the main sink anything. [`WithAlerts`]
//! wraps a [`crate::LeadSink`]: it writes the leads first and only then offers them to
//! [`Alerts`], whose [`Alerts::offer`] only ever `try_send`s into a bounded queue per
//! webhook. Each webhook's task throttles (per publisher and per rule, with one summary
//! message for what it held back: [`throttle`]), encodes ([`encoder`]) and delivers with
//! retries, backoff and timeouts. A full queue drops the alert, never the lead, and counts it.
//! A lead that only demoted rules found ([`Demotions`], answered by the case store) is
//! not offered at all: it waits in the case queue `under_review`.
//!
//! Settings are [`WebhookConfig`], one `[[alerts.webhook]]` table each.

mod config;
pub mod encoder;
mod sink;
pub mod throttle;

pub use config::{redact, Format, Limit, WebhookConfig};
pub use encoder::Message;
pub use sink::{AlertMetrics, AlertRecord, Alerts, Demotions, WithAlerts};
pub use throttle::{KeyKind, Summary};
