//! `tiketa-gen serve`: the watcher plus a local web server with live reload, for content
//! authors.
//!
//! The built files stay exactly what a CDN would serve; the reload hook is added to HTML only
//! as this server sends it. After every successful build the server tells each open page, over
//! a server-sent events stream, to reload itself. The booking API is not part of this server:
//! seat maps need `make run`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use warp::Filter;
use warp::http::StatusCode;

use crate::build::BuildOptions;
use crate::watch;

const RELOAD_PATH: &str = "__livereload";
/// The hook is a script file, not inline script: every page's Content-Security-Policy allows
/// scripts from the site only (`script-src 'self'`) and its event stream is a same-origin
/// `connect-src 'self'`, so live reload works under the policy a CDN would serve.
const RELOAD_SCRIPT_PATH: &str = "__livereload.js";
const RELOAD_SCRIPT: &str =
    "new EventSource(\"/__livereload\").addEventListener(\"reload\", () => location.reload());\n";
const RELOAD_TAG: &str = "<script src=\"/__livereload.js\"></script>\n";

/// Adds the reload hook before `</body>`.
fn inject(mut html: String) -> String {
    match html.rfind("</body>") {
        Some(at) => html.insert_str(at, RELOAD_TAG),
        None => html.push_str(RELOAD_TAG),
    }
    html
}

/// Builds, watches, and serves `opts.out` on `listen` until the process is stopped.
pub fn run(opts: BuildOptions, fixed_now: bool, listen: SocketAddr) -> anyhow::Result<()> {
    let (builds, _) = tokio::sync::watch::channel(0u64);
    let root = Arc::new(std::path::absolute(&opts.out)?);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(listen))
        .with_context(|| format!("cannot listen on {listen}; is another program using the port? (--listen)"))?;
    println!("serving {} on http://{} with live reload", root.display(), listener.local_addr()?);
    runtime.spawn(warp::serve(routes(root, builds.clone())).incoming(listener).run());
    watch::run(opts, fixed_now, move || {
        builds.send_modify(|n| *n += 1);
    })
}

fn routes(
    root: Arc<PathBuf>,
    builds: tokio::sync::watch::Sender<u64>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Infallible> + Clone {
    use warp::Reply;
    let dir = (*root).clone();
    let with_root = warp::any().map(move || root.clone());
    let reload = warp::path(RELOAD_PATH).and(warp::get()).map(move || {
        let mut rx = builds.subscribe();
        rx.borrow_and_update();
        let events = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.changed().await.ok()?;
            Some((Ok::<_, Infallible>(warp::sse::Event::default().event("reload").data("build")), rx))
        });
        warp::sse::reply(warp::sse::keep_alive().stream(events)).into_response()
    });
    let script = warp::path(RELOAD_SCRIPT_PATH).and(warp::path::end()).and(warp::get()).map(|| {
        no_store(
            warp::reply::with_header(RELOAD_SCRIPT, "content-type", "text/javascript; charset=utf-8").into_response(),
        )
    });
    let html = warp::get().and(warp::path::tail()).and(with_root.clone()).and_then(
        |tail: warp::path::Tail, root: Arc<PathBuf>| async move {
            let rel = tail.as_str();
            if rel.split('/').any(|s| s == ".." || s.contains('\\')) {
                return Err(warp::reject::not_found());
            }
            let file = if rel.is_empty() || rel.ends_with('/') {
                root.join(rel).join("index.html")
            } else if rel.ends_with(".html") {
                root.join(rel)
            } else {
                return Err(warp::reject::not_found());
            };
            match tokio::fs::read_to_string(&file).await {
                Ok(text) => Ok(no_store(warp::reply::html(inject(text)).into_response())),
                Err(_) => Err(warp::reject::not_found()),
            }
        },
    );
    let files = warp::get().and(warp::fs::dir(dir)).map(|f: warp::fs::File| no_store(f.into_response()));
    let not_found = with_root.and_then(|root: Arc<PathBuf>| async move {
        let body = tokio::fs::read_to_string(root.join("404.html")).await.unwrap_or_else(|_| "Not found".into());
        Ok::<_, Infallible>(
            warp::reply::with_status(warp::reply::html(inject(body)), StatusCode::NOT_FOUND).into_response(),
        )
    });
    reload.or(script).unify().or(html).unify().or(files).unify().or(not_found).unify()
}

/// Authors want every edit at once: nothing from this server is cached.
fn no_store(mut res: warp::reply::Response) -> warp::reply::Response {
    res.headers_mut().insert("cache-control", warp::http::HeaderValue::from_static("no-store"));
    res
}
