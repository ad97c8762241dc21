//! A bare warp "hello" server: the ceiling the booking service's figures are measured against
//! (same warp, same runtime, no database, no middleware). Used by `bench/booking.sh`.

use warp::Filter;

#[tokio::main]
async fn main() {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()
        .expect("usage: bench-hello [host:port]");
    let hello = warp::path!("hello").map(|| "hello");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("cannot bind");
    println!("bench-hello listening on http://{}", listener.local_addr().expect("bound"));
    warp::serve(hello).incoming(listener).run().await;
}
