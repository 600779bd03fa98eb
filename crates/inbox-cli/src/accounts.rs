//! The accounts file: many Partoo organisations and Bird workspaces, each with its own key
//! (given by reference, never inline), base URL and options.
//!
//! ```toml
//! [[account]]
//! name = "acme-paris"             # the source's name: unique, shown in every report
//! provider = "partoo"
//! key_env = "ACME_PARIS_PARTOO_KEY" # the key: the name of an environment variable…
//!
//! [[account]]
//! name = "acme-bird"
//! provider = "bird"
//! workspace = "2f1c…"
//! key_file = "/run/secrets/acme-bird" # …or a file that holds it
//! base_url = "https://api.bird.com"   # optional, as are `sandbox` and `businesses` (Partoo)
//! ```

use std::path::{Path, PathBuf};

use inbox::{BirdSource, Inbox, InboxBuilder, PartooSource, SourceLimits, Target};
use serde::Deserialize;

/// The file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default, rename = "account")]
    accounts: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Provider {
    Partoo,
    Bird,
}

/// One account, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    provider: Provider,
    /// The environment variable that holds the key.
    key_env: Option<String>,
    /// The file that holds the key (its content, trimmed).
    key_file: Option<PathBuf>,
    /// Bird: the workspace id.
    workspace: Option<String>,
    base_url: Option<String>,
    /// Partoo: the sandbox host.
    #[serde(default)]
    sandbox: bool,
    /// Partoo: only these businesses.
    #[serde(default)]
    businesses: Vec<String>,
    /// Requests of this account in flight at once (default: the command's `--concurrency`).
    concurrency: Option<usize>,
}

/// Accounts read from a file, ready to be synced: each one a source of its own (its own
/// key, its own rate limit), named as the file names it.
pub(crate) struct Accounts {
    /// The inbox of every account.
    pub(crate) inbox: InboxBuilder,
    /// One target per account, in the file's order.
    pub(crate) targets: Vec<Target>,
    /// Each account's name and base URL, for messages that name them.
    pub(crate) urls: std::collections::BTreeMap<String, String>,
    /// Each account's name and provider, in the file's order.
    pub(crate) providers: Vec<(String, inbox::Provider)>,
}

/// Reads `path`: every account, with its key resolved. An error names the file, and the
/// line and column or the account it is about; it never holds a key.
pub(crate) fn load(
    path: &Path,
    concurrency: usize,
    rate_limited: bool,
) -> Result<Accounts, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the accounts file {}: {e}", path.display()))?;
    parse(&text, path, concurrency, rate_limited, &|name| {
        std::env::var(name).ok()
    })
}

fn parse(
    text: &str,
    path: &Path,
    concurrency: usize,
    rate_limited: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Accounts, String> {
    let shown = path.display();
    let file: File = toml::from_str(text).map_err(|e| {
        // toml's message names the line and column, and quotes the line.
        format!("the accounts file {shown} is not valid: {e}")
    })?;
    if file.accounts.is_empty() {
        return Err(format!(
            "the accounts file {shown} lists no account: add [[account]] tables"
        ));
    }
    let mut inbox = Inbox::builder().concurrency(concurrency);
    let mut targets = Vec::new();
    let mut urls = std::collections::BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut providers = Vec::new();
    for (n, entry) in file.accounts.iter().enumerate() {
        let at = format!("{shown}: account {} ({:?})", n + 1, entry.name);
        if entry.name.trim().is_empty() {
            return Err(format!("{at}: `name` is empty"));
        }
        if !seen.insert(entry.name.as_str()) {
            return Err(format!("{at}: another account has this name"));
        }
        let key = key(entry, path, env).map_err(|e| format!("{at}: {e}"))?;
        let limit = entry.concurrency.unwrap_or(concurrency).max(1);
        match entry.provider {
            Provider::Partoo => {
                if entry.workspace.is_some() {
                    return Err(format!("{at}: `workspace` is for Bird accounts"));
                }
                let mut builder = if entry.sandbox {
                    inbox::partoo::Client::sandbox_builder(key)
                } else {
                    inbox::partoo::Client::builder(key)
                };
                if let Some(url) = &entry.base_url {
                    builder = builder.base_url(url);
                }
                let client = builder.build().map_err(|e| format!("{at}: {e}"))?;
                urls.insert(entry.name.clone(), client.base_url().to_string());
                let rate = rate_limited.then_some(inbox::PARTOO_RATE);
                inbox = inbox.source(
                    PartooSource::new(client)
                        .named(entry.name.clone())
                        .businesses(entry.businesses.iter().cloned())
                        .limits(SourceLimits::new(limit, rate)),
                );
            }
            Provider::Bird => {
                let Some(workspace) = entry.workspace.as_deref().filter(|w| !w.trim().is_empty())
                else {
                    return Err(format!("{at}: a Bird account needs `workspace`"));
                };
                if entry.sandbox || !entry.businesses.is_empty() {
                    return Err(format!(
                        "{at}: `sandbox` and `businesses` are for Partoo accounts"
                    ));
                }
                let mut builder = inbox::bird::Client::builder(key, workspace);
                if let Some(url) = &entry.base_url {
                    builder = builder.base_url(url);
                }
                let client = builder.build().map_err(|e| format!("{at}: {e}"))?;
                urls.insert(entry.name.clone(), client.base_url().to_string());
                let rate = rate_limited.then_some(inbox::BIRD_RATE);
                inbox = inbox.source(
                    BirdSource::new(client)
                        .named(entry.name.clone())
                        .limits(SourceLimits::new(limit, rate)),
                );
            }
        }
        targets.push(Target::all(entry.name.clone()));
        providers.push((
            entry.name.clone(),
            match entry.provider {
                Provider::Partoo => inbox::Provider::Partoo,
                Provider::Bird => inbox::Provider::Bird,
            },
        ));
    }
    Ok(Accounts {
        inbox,
        targets,
        urls,
        providers,
    })
}

/// The key `entry` refers to. Its value is never part of an error.
fn key(entry: &Entry, path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let key = match (&entry.key_env, &entry.key_file) {
        (Some(_), Some(_)) => return Err("give `key_env` or `key_file`, not both".into()),
        (None, None) => {
            return Err(
                "no key: give `key_env` (an environment variable's name) or `key_file` (a path); \
                 keys are never written in this file"
                    .into(),
            );
        }
        (Some(var), None) => env(var)
            .ok_or_else(|| format!("the environment variable {var} (its key) is not set"))?,
        (None, Some(file)) => {
            // Relative to the accounts file, like any path in it.
            let file = path.parent().map_or(file.clone(), |dir| dir.join(file));
            std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read its key file {}: {e}", file.display()))?
        }
    };
    let key = key.trim().to_owned();
    if key.is_empty() {
        return Err("its key is empty".into());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "ACME_KEY").then(|| "s3cret-key".to_owned())
    }

    fn parsed(text: &str) -> Result<Accounts, String> {
        parse(text, Path::new("accounts.toml"), 4, true, &env)
    }

    #[test]
    fn accounts_become_named_sources_and_targets() {
        let accounts = parsed(
            r#"
            [[account]]
            name = "acme-paris"
            provider = "partoo"
            key_env = "ACME_KEY"
            base_url = "http://127.0.0.1:9/v2"

            [[account]]
            name = "acme-bird"
            provider = "bird"
            workspace = "ws-1"
            key_env = "ACME_KEY"
            concurrency = 2
            "#,
        )
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = accounts.targets.iter().map(Target::source).collect();
        assert_eq!(names, ["acme-paris", "acme-bird"]);
        assert_eq!(accounts.urls["acme-paris"], "http://127.0.0.1:9/v2");
        assert!(accounts.inbox.build().is_ok());
    }

    #[test]
    fn mistakes_are_named_and_no_key_is_ever_shown() {
        let cases = [
            (
                "[[account]]\nname = \"a\"\nprovider = \"partoo\"\nkey = \"inline\"\n",
                "unknown field `key`",
            ),
            (
                "[[account]]\nname = \"a\"\nprovider = \"partoo\"\n",
                "no key",
            ),
            (
                "[[account]]\nname = \"a\"\nprovider = \"partoo\"\nkey_env = \"NOPE\"\n",
                "NOPE",
            ),
            (
                "[[account]]\nname = \"a\"\nprovider = \"bird\"\nkey_env = \"ACME_KEY\"\n",
                "needs `workspace`",
            ),
            (
                "[[account]]\nname = \"a\"\nprovider = \"whatsapp\"\nkey_env = \"ACME_KEY\"\n",
                "unknown variant",
            ),
            (
                "[[account]]\nname = \"a\"\nprovider = \"partoo\"\nkey_env = \"ACME_KEY\"\n\
                 [[account]]\nname = \"a\"\nprovider = \"partoo\"\nkey_env = \"ACME_KEY\"\n",
                "another account has this name",
            ),
            ("[[account]\nname = 1\n", "line 1"),
            ("", "lists no account"),
        ];
        for (text, wanted) in cases {
            let err = parsed(text)
                .err()
                .unwrap_or_else(|| panic!("accepted: {text}"));
            assert!(err.contains(wanted), "{text}: {err}");
            assert!(err.contains("accounts.toml"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
