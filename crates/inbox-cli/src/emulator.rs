//! `inbox emulator`: both APIs on loopback until interrupted.

use std::io::Write;
use std::time::Duration;

use inbox_emulator::{Config, Dataset, Emulator, WebhookConfig};

use crate::Outcome;
use crate::args::EmulatorArgs;

pub(crate) async fn run(args: &EmulatorArgs) -> Outcome {
    let conversations = args.conversations as usize;
    let config = Config {
        seed: args.seed,
        dataset: Dataset::Synthetic {
            partoo_conversations: conversations,
            bird_conversations: conversations,
            messages_per_conversation: 3..=40,
        },
        latency: Duration::from_millis(args.latency_ms),
        faults: args.faults.clone().unwrap_or_default(),
        send_faults: args.send_faults.unwrap_or_default(),
        partoo_port: args.port,
        bird_port: args.port.map(|p| p.saturating_add(1)),
        webhooks: match &args.webhook_url {
            Some(url) => {
                let base = url.trim_end_matches('/');
                WebhookConfig {
                    partoo_url: Some(format!("{base}/webhooks/partoo")),
                    bird_url: Some(format!("{base}/webhooks/bird")),
                    faults: args.webhook_faults.unwrap_or_default(),
                }
            }
            None => WebhookConfig::default(),
        },
        accounts: args.accounts as usize,
        ..Config::default()
    };
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(e) => return Outcome::Failed(format!("cannot start the emulator: {e}")),
    };
    let c = emulator.config();
    let banner = format!(
        "inbox emulator: {} Partoo and {} Bird conversations, {} messages (seed {})\n\
         \n\
         Partoo  base URL    {}\n\
         \x20       API key     {}\n\
         Bird    base URL    {}\n\
         \x20       access key  {}\n\
         \x20       workspace   {}\n\
         \n\
         Try, from another terminal:\n\
         \x20 export PARTOO_API_KEY={} BIRD_ACCESS_KEY={} BIRD_WORKSPACE_ID={}\n\
         \x20 inbox fetch --all --partoo-url {} --bird-url {}\n\
         \n\
         Stop with Ctrl-C.\n",
        emulator.partoo_conversation_ids().len(),
        emulator.bird_conversation_ids().len(),
        emulator.message_count(),
        c.seed,
        emulator.partoo_base_url(),
        c.partoo_key,
        emulator.bird_base_url(),
        c.bird_key,
        c.bird_workspace,
        c.partoo_key,
        c.bird_key,
        c.bird_workspace,
        emulator.partoo_base_url(),
        emulator.bird_base_url(),
    );
    let mut banner = banner;
    if let Some(bird_url) = &c.webhooks.bird_url {
        let keys = emulator.webhook_keys();
        banner.push_str(&format!(
            "\nWebhooks to {} and {bird_url}, verified by:\n\
             \x20 inbox serve --partoo-public-key {} --bird-signing-key {} --bird-public-url {bird_url}\n",
            c.webhooks.partoo_url.as_deref().unwrap_or("-"),
            keys.partoo_public_key_base64,
            keys.bird_signing_key,
        ));
    }
    if emulator.account_count() > 1 {
        banner.push_str(&format!(
            "\n{} accounts: the keys above are account 0's; account i's are KEY-i, its workspace \
             {}-i.\n",
            emulator.account_count(),
            c.bird_workspace,
        ));
    }
    if let Some(path) = &args.write_accounts {
        if let Err(e) = write_accounts(&emulator, path) {
            return Outcome::Failed(format!("cannot write {}: {e}", path.display()));
        }
        banner.push_str(&format!(
            "\nAccounts file {} (keys in {}.keys), for example:\n  inbox worker --db inbox.db --accounts {}\n",
            path.display(),
            path.display(),
            path.display(),
        ));
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(banner.as_bytes()).and_then(|()| out.flush()) {
        return Outcome::of_write(Err(e), Outcome::Done);
    }
    drop(out);
    let stopped = if args.activity_every.is_zero() {
        tokio::signal::ctrl_c().await
    } else {
        let mut round = 0u64;
        let mut tick = tokio::time::interval(args.activity_every);
        tick.tick().await;
        loop {
            tokio::select! {
                stopped = tokio::signal::ctrl_c() => break stopped,
                _ = tick.tick() => {
                    round += 1;
                    let activity = emulator.simulate_activity(args.seed.wrapping_add(round), 3);
                    eprintln!(
                        "activity: {} messages added, {} changed",
                        activity.partoo_added.len() + activity.bird_added.len(),
                        activity.partoo_changed.len() + activity.bird_changed.len()
                    );
                }
            }
        }
    };
    emulator.shutdown().await;
    match stopped {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed(format!("cannot wait for Ctrl-C: {e}")),
    }
}

/// Writes an accounts file naming every account of `emulator` (`emulator-partoo-I` and
/// `emulator-bird-I`), and each key in a file of its own in `PATH.keys/` (the file refers
/// to them by path, relative to itself, as accounts files do).
fn write_accounts(emulator: &Emulator, path: &std::path::Path) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "accounts.toml".to_owned());
    let keys_dir = format!("{name}.keys");
    let keys = path.with_file_name(&keys_dir);
    std::fs::create_dir_all(&keys)?;
    let mut file =
        String::from("# Written by `inbox emulator --write-accounts`: every account it serves.\n");
    for i in 0..emulator.account_count() {
        let Some(account) = emulator.account(i) else {
            break;
        };
        std::fs::write(keys.join(format!("partoo-{i}")), &account.partoo_key)?;
        std::fs::write(keys.join(format!("bird-{i}")), &account.bird_key)?;
        file.push_str(&format!(
            "\n[[account]]\nname = \"emulator-partoo-{i}\"\nprovider = \"partoo\"\n\
             key_file = \"{keys_dir}/partoo-{i}\"\nbase_url = \"{}\"\n\
             \n[[account]]\nname = \"emulator-bird-{i}\"\nprovider = \"bird\"\n\
             workspace = \"{}\"\nkey_file = \"{keys_dir}/bird-{i}\"\nbase_url = \"{}\"\n",
            emulator.partoo_base_url(),
            account.bird_workspace,
            emulator.bird_base_url(),
        ));
    }
    std::fs::write(path, file)
}
