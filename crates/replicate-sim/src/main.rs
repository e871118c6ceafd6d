//! `replicate-sim`: serves the simulated Replicate API until SIGINT/SIGTERM.
//! Flags and `REPLICATE_SIM_*` variables are listed by `--help` (see also the crate README).

use replicate_sim::config::OPTIONS;
use replicate_sim::{Config, Simulator};

fn usage() -> String {
    let mut s = String::from(
        "replicate-sim: a local stand-in for Replicate's HTTP API\n\n\
         usage: replicate-sim [--option value]...\n\
         every option can also be set as REPLICATE_SIM_<OPTION> (upper case, - as _); flags win.\n\n",
    );
    for (name, help) in OPTIONS {
        s.push_str(&format!("  --{name:<24} {help}\n"));
    }
    s
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", usage());
        return;
    }
    let config = match Config::from_env_and_args(std::env::vars(), args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("replicate-sim: {e}\n\n{}", usage());
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("replicate-sim: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async move {
        let (host, port) = (config.host, config.port);
        let sim = match Simulator::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("replicate-sim: cannot listen on {host}:{port}: {e}");
                std::process::exit(1);
            }
        };
        eprintln!(
            "replicate-sim: listening on http://{} (API at {}/v1)",
            sim.addr(),
            sim.base_url()
        );
        sim.run_until(shutdown_signal()).await;
        eprintln!("replicate-sim: stopped");
    });
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
