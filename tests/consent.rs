//! The consent model and the transfer decision, tested from the outside through the auditor's
//! kit (`consentry::testing::Scenario`): one test per denial reason, properties of the
//! decision, a model-based test against an independent reference model, and concurrency.

#[path = "support/reach.rs"]
mod reach;

mod consent {
    mod chains;
    mod common;
    mod concurrency;
    mod derivations;
    mod directory;
    mod integrity;
    mod legal_persons;
    mod model;
    mod notifications;
    mod properties;
    mod reasons;
    mod receipts;
    mod records;
    mod statements;
    mod stats;
    mod trust;
}
