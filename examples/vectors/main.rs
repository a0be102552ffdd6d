//! Generates the public test vectors of format version 2.
//!
//! ```text
//! cargo run --example vectors -- tests/vectors
//! ```
//!
//! Everything is deterministic: keys come from fixed seeds, ids from a counter and time from a
//! fixed clock ([`Scenario::canteen`]), and Ed25519 signatures are deterministic, so running the
//! generator twice writes the same bytes. The generator checks every expected outcome it writes
//! against the outcome it meant to produce and stops if they differ. See
//! `tests/vectors/README.md` for the layout and `docs/format.md` for the error codes.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::{fs, io};

use consentry::testing::Scenario;
use serde_json::Value as Json;

mod annotate;
mod cases;
mod codes;
mod common;
mod decisions;
mod directories;
mod index;
pub mod log;
mod notifications;
mod objects;
mod records;
mod registry;
mod schemas;

pub use annotate::annotate;
pub use codes::{check_object_with, decision_json};
pub use common::hex;
pub use schemas::read as read_json;

use cases::Gen;

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/vectors".to_owned());
    match generate(Path::new(&out)) {
        Ok(summary) => println!("{summary}"),
        Err(e) => {
            eprintln!("cannot write the vectors to {out}: {e}");
            std::process::exit(1);
        }
    }
}

/// Writes every vector under `out` and returns a one-line summary.
pub fn generate(out: &Path) -> io::Result<String> {
    let (g, s) = build_all();
    for sub in [
        "objects",
        "decisions",
        "directories",
        "log",
        "records",
        "registry",
        "notifications",
        "json",
    ] {
        let p = out.join(sub);
        if p.exists() {
            fs::remove_dir_all(&p)?;
        }
    }
    for (path, bytes) in &g.files {
        let p = out.join(path);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(p, bytes)?;
    }
    let grant = &g.files["objects/grant-by-parent.cbor"];
    fs::write(out.join("grant-by-parent.annotated.txt"), annotate(grant))?;
    let index = index::index(&g, &s);
    fs::write(
        out.join("index.json"),
        serde_json::to_string_pretty(&index).unwrap_or_default() + "\n",
    )?;
    Ok(format!(
        "wrote {} object cases, {} decision cases, {} log entries and {} records ({} files) to {}",
        g.objects.len(),
        g.decisions.len(),
        g.log["entries"].as_array().map_or(0, Vec::len),
        g.records.len(),
        g.files.len() + 1,
        out.display()
    ))
}

/// Builds every case, in the index's order.
fn build_all() -> (Gen, Scenario) {
    let mut s = Scenario::canteen();
    // Beside the canteen's, DGFiP's ceiling for school scholarships, which releases the
    // reference tax income only as a bracket.
    let scholarship = common::scholarship_ceiling(&s);
    s.ceilings.publish(scholarship);
    let mut g = Gen {
        ceilings: s.ceilings.clone(),
        dirs: directories::directories(&s),
        files: BTreeMap::new(),
        objects: Vec::new(),
        decisions: Vec::new(),
        log: Json::Null,
        registry: Json::Null,
        notifications: Json::Null,
        records: Vec::new(),
    };
    for (name, (dir, _)) in &g.dirs {
        g.files
            .insert(format!("directories/{name}.cbor"), dir.to_cbor());
    }
    objects::objects(&mut g, &s);
    decisions::decisions(&mut g, &mut s);
    objects::chains(&mut g, &s);
    objects::derived(&mut g, &s);
    g.log = log::log_vectors(&mut g.files);
    g.registry = registry::registry(&mut g.files, &s);
    g.notifications = notifications::notifications(&mut g.files);
    g.records = records::records(&mut g);
    schemas::json_vectors(&mut g);
    (g, s)
}
