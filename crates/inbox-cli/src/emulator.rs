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
