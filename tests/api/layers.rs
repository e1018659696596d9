//! The layers stay one-way streets. The table below is the rule; `checker` parses every file
//! under `src/` with `syn` and reports each reference that breaks it, each cycle between
//! top-level modules, each cycle between the files of one top-level module, and each external
//! crate a layer may not name.

mod checker;

use std::collections::BTreeMap;
use std::path::Path;

use checker::Layer;

/// The layer table, top to bottom. A top-level module may reference the modules in its `may_use`
/// and the single items in its `may_name`, all of them further down the table: an arrow may skip
/// layers going down, never go up or sideways. `config`, `error` and `telemetry` are support that
/// every layer but `domain` may use; they use only what sits below them.
pub const LAYERS: &[Layer] = &[
    // The binary: parses the command line, starts logging, hands over to `cli`.
    Layer {
        module: "main",
        may_use: &["cli", "telemetry", "config", "error"],
        may_name: &[],
        forbidden_crates: &[],
    },
    // The commands: serve, migrate, keys, print the spec, seed, purge.
    Layer {
        module: "cli",
        may_use: &[
            "startup",
            "routes",
            "workers",
            "services",
            "db",
            "domain",
            "telemetry",
            "config",
            "error",
        ],
        may_name: &[],
        forbidden_crates: &[],
    },
    // Builds the application: pool, server, background tasks.
    Layer {
        module: "startup",
        may_use: &[
            "routes",
            "workers",
            "services",
            "db",
            "devdb",
            "domain",
            "telemetry",
            "config",
            "error",
        ],
        may_name: &[],
        forbidden_crates: &[],
    },
    // HTTP: handlers, extractors (the caller's key too), `AppState`, middleware, request and
    // response shapes, the OpenAPI document. Of `db` only the blocking hop and the pool: rows
    // and queries stay behind the services.
    Layer {
        module: "routes",
        may_use: &["services", "domain", "telemetry", "config", "error"],
        may_name: &["db::run", "db::Pool"],
        forbidden_crates: &[],
    },
    // Background loops.
    Layer {
        module: "workers",
        may_use: &["services", "domain", "telemetry", "config", "error"],
        may_name: &["db::run", "db::Pool"],
        forbidden_crates: &[],
    },
    // Use cases; each owns its transaction.
    Layer {
        module: "services",
        may_use: &["db", "domain", "telemetry", "config", "error"],
        may_name: &[],
        forbidden_crates: &["actix_web", "utoipa"],
    },
    // Pool, the blocking hop, migrations, schema, queries. The hop is `actix_web::web::block`,
    // so actix's thread pool runs diesel; nothing else of actix belongs here.
    Layer {
        module: "db",
        may_use: &["domain", "telemetry", "config", "error"],
        may_name: &[],
        forbidden_crates: &["utoipa"],
    },
    // Development convenience: a local PostgreSQL when there is no `DATABASE_URL`.
    Layer {
        module: "devdb",
        may_use: &[],
        may_name: &[],
        forbidden_crates: &[],
    },
    // Support: logging.
    Layer {
        module: "telemetry",
        may_use: &["config", "domain", "error"],
        may_name: &[],
        forbidden_crates: &[],
    },
    // Support: typed settings, built from domain types.
    Layer {
        module: "config",
        may_use: &["domain", "error"],
        may_name: &[],
        forbidden_crates: &[],
    },
    // Pure types and rules: nothing else of the crate, no framework, no database.
    Layer {
        module: "domain",
        may_use: &[],
        may_name: &[],
        forbidden_crates: &["actix", "diesel", "utoipa"],
    },
    // Support: the one error type.
    Layer {
        module: "error",
        may_use: &[],
        may_name: &[],
        forbidden_crates: &[],
    },
];

/// Every `.rs` file under `src/`, keyed `src/...` with `/` between the parts.
fn sources() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = BTreeMap::new();
    let mut pending = vec![root.join("src")];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let name = path.strip_prefix(root).unwrap();
            let name: Vec<_> = name.iter().map(|part| part.to_string_lossy()).collect();
            sources.insert(name.join("/"), std::fs::read_to_string(&path).unwrap());
        }
    }
    sources
}

#[test]
fn the_source_tree_obeys_the_layer_table_and_has_no_import_cycles() {
    let problems = checker::check(&sources(), LAYERS);

    assert!(problems.is_empty(), "\n{problems}");
}

#[test]
fn the_layer_table_only_points_down_to_modules_it_places() {
    for (index, layer) in LAYERS.iter().enumerate() {
        let items = layer.may_name.iter().map(|item| item.split("::").next());
        for used in layer.may_use.iter().copied().chain(items.flatten()) {
            let below = LAYERS[index + 1..].iter().any(|l| l.module == used);

            assert!(
                below,
                "{} may use {used}, which is not below it",
                layer.module
            );
        }
    }
}

/// The real tree with `added` appended to some of its files.
fn real_tree_with(added: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut sources = sources();
    for (file, text) in added {
        sources.get_mut(*file).unwrap().push_str(text);
    }
    sources
}

#[test]
fn a_grouped_import_that_breaks_a_rule_in_the_real_domain_is_reported() {
    let sources = real_tree_with(&[(
        "src/domain/slug.rs",
        "\nuse crate::{db::Pool, routes::extract};\n",
    )]);

    let problems = checker::check(&sources, LAYERS);

    let from_domain: Vec<(&str, &str)> = problems
        .forbidden
        .iter()
        .filter(|arrow| arrow.from == "domain")
        .flat_map(|arrow| &arrow.references)
        .map(|r| (r.to.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        from_domain,
        [
            ("src/db/mod.rs", "crate::db::Pool"),
            ("src/routes/extract.rs", "crate::routes::extract"),
        ]
    );
}

#[test]
fn a_cycle_added_between_two_real_domain_files_is_reported() {
    let sources = real_tree_with(&[
        (
            "src/domain/slug.rs",
            "\nfn f() { super::phone::parse(); }\n",
        ),
        (
            "src/domain/phone.rs",
            "\nuse crate::domain::{slug::Slug};\n",
        ),
    ]);

    let problems = checker::check(&sources, LAYERS);

    let in_domain: Vec<&Vec<String>> = problems
        .file_cycles
        .iter()
        .filter(|knot| knot.within.as_deref() == Some("domain"))
        .map(|knot| &knot.members)
        .collect();
    assert_eq!(in_domain, [&["src/domain/phone.rs", "src/domain/slug.rs"]]);
}
