//! `inbox emulator`: both APIs on loopback until interrupted.

use std::io::Write;
use std::time::Duration;

use inbox_emulator::{Config, Dataset, Emulator};

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
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(banner.as_bytes()).and_then(|()| out.flush()) {
        return Outcome::of_write(Err(e), Outcome::Done);
    }
    drop(out);
    let stopped = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    match stopped {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed(format!("cannot wait for Ctrl-C: {e}")),
    }
}
