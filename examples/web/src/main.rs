//! `redorm-example-web <database-file> [address]`: serves the example API on `address`
//! (default `127.0.0.1:3000`; port 0 picks a free port) and prints the address it listens on.

use std::process::ExitCode;

use tokio::net::TcpListener;

const USAGE: &str = "usage: redorm-example-web <database-file> [address, default 127.0.0.1:3000]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, addr) = match args.as_slice() {
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [path] => (path.clone(), "127.0.0.1:3000".to_string()),
        [path, addr] => (path.clone(), addr.clone()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&path, &addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("redorm-example-web: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str, addr: &str) -> Result<(), String> {
    // Opening reads (or creates) the file and checks its schema: done before the async
    // runtime starts, on this thread, since it blocks.
    let db = redorm_example_web::database()
        .open(path)
        .map_err(|e| format!("cannot open `{path}`: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        // The first line of output; the integration test reads the port from it.
        println!("listening on http://{local}");
        axum::serve(listener, redorm_example_web::router(db))
            .with_graceful_shutdown(async {
                // Ctrl-C: stop accepting, finish the requests in flight, then close the file.
                // (Without a signal handler, serve until killed.)
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
            .await
            .map_err(|e| format!("serving on {local}: {e}"))
    })
}
