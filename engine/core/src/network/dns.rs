//! The embedded DNS server of a user-defined network. It listens on the
//! network's gateway address (where containers reach the host), answers
//! the names of containers that share a network with the asker, and
//! forwards everything else to the host's resolvers (or the container's
//! `--dns`). Living in the host's namespace, it can forward to a loopback
//! resolver such as systemd-resolved's, which a container could not reach.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// Container names are short-lived: a short TTL keeps caches honest.
const TTL: u32 = 600;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(4);

/// The names a DNS server knows, as seen by the container asking.
pub trait Resolve: Send + Sync + 'static {
    /// Addresses of `name` for the container at `src`; `None` if unknown.
    fn lookup(&self, src: Ipv4Addr, name: &str) -> Option<Vec<IpAddr>>;
    /// The name of the container at `ip`, if `src` may see it.
    fn reverse(&self, src: Ipv4Addr, ip: Ipv4Addr) -> Option<String>;
    /// Where to forward what is not ours.
    fn upstreams(&self, src: Ipv4Addr) -> Vec<SocketAddr>;
}

/// Serves DNS over UDP and TCP on `addr:53` until the tasks are aborted.
pub async fn serve(addr: Ipv4Addr, book: Arc<dyn Resolve>) -> std::io::Result<Vec<JoinHandle<()>>> {
    let udp = Arc::new(UdpSocket::bind((addr, 53)).await?);
    let tcp = TcpListener::bind((addr, 53)).await?;
    let udp_book = book.clone();
    let udp_task = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = udp.recv_from(&mut buf).await else { continue };
            let IpAddr::V4(src) = peer.ip() else { continue };
            let (query, sock, book) = (buf[..n].to_vec(), udp.clone(), udp_book.clone());
            tokio::spawn(async move {
                if let Some(reply) = answer(&query, src, book.as_ref(), false).await {
                    let _ = sock.send_to(&reply, peer).await;
                }
            });
        }
    });
    let tcp_task = tokio::spawn(async move {
        while let Ok((stream, peer)) = tcp.accept().await {
            let IpAddr::V4(src) = peer.ip() else { continue };
            tokio::spawn(serve_tcp(stream, src, book.clone()));
        }
    });
    Ok(vec![udp_task, tcp_task])
}

async fn serve_tcp(mut stream: TcpStream, src: Ipv4Addr, book: Arc<dyn Resolve>) {
    while let Ok(Some(query)) = read_tcp(&mut stream).await {
        let Some(reply) = answer(&query, src, book.as_ref(), true).await else { return };
        if write_tcp(&mut stream, &reply).await.is_err() {
            return;
        }
    }
}

/// DNS over TCP frames each message with a two-byte length.
async fn read_tcp(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 2];
    match stream.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
    stream.read_exact(&mut msg).await?;
    Ok(Some(msg))
}

async fn write_tcp(stream: &mut TcpStream, msg: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(msg.len()).map_err(|_| std::io::Error::other("DNS message too long"))?;
    stream.write_all(&len.to_be_bytes()).await?;
    stream.write_all(msg).await
}

/// The reply to one query: ours, forwarded, or an error; `None` drops a
/// packet that is not a DNS query at all.
async fn answer(query: &[u8], src: Ipv4Addr, book: &dyn Resolve, tcp: bool) -> Option<Vec<u8>> {
    let msg = Message::from_vec(query).ok()?;
    if msg.message_type() != MessageType::Query {
        return None;
    }
    if let Some(reply) = local_answer(&msg, src, book) {
        return reply.to_vec().ok();
    }
    if msg.op_code() == OpCode::Query {
        for upstream in book.upstreams(src) {
            let reply = if tcp { forward_tcp(query, upstream).await } else { forward_udp(query, upstream).await };
            match reply {
                Ok(r) if r.len() >= 2 && r[..2] == query[..2] => return Some(r),
                Ok(_) => tracing::debug!(%upstream, "mismatched DNS reply"),
                Err(e) => tracing::debug!(%upstream, error = %e, "DNS forward failed"),
            }
        }
    }
    let code = if msg.op_code() == OpCode::Query { ResponseCode::ServFail } else { ResponseCode::NotImp };
    let mut reply = Message::error_msg(msg.id(), msg.op_code(), code);
    reply.add_queries(msg.queries().iter().cloned());
    reply.set_recursion_desired(msg.recursion_desired()).set_recursion_available(true);
    reply.to_vec().ok()
}

/// An answer from the containers' names, if the question is about them.
fn local_answer(msg: &Message, src: Ipv4Addr, book: &dyn Resolve) -> Option<Message> {
    let [q] = msg.queries() else { return None };
    let name = q.name().to_ascii();
    let records: Vec<Record> = match q.query_type() {
        // A known name without addresses of the family asked for gets an
        // empty answer at once rather than leave the client waiting on an
        // upstream that cannot know it.
        RecordType::A | RecordType::AAAA => {
            let want_v6 = q.query_type() == RecordType::AAAA;
            let mut ips: Vec<IpAddr> =
                book.lookup(src, &name)?.into_iter().filter(|ip| ip.is_ipv6() == want_v6).collect();
            // Several containers behind one alias: spread the load.
            let offset = usize::from(msg.id()) % ips.len().max(1);
            ips.rotate_left(offset);
            let rdata = |ip| match ip {
                IpAddr::V4(v4) => RData::A(A(v4)),
                IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
            };
            ips.into_iter().map(|ip| Record::from_rdata(q.name().clone(), TTL, rdata(ip))).collect()
        }
        RecordType::PTR => {
            let ip = parse_reverse(&name)?;
            let target = Name::from_ascii(format!("{}.", book.reverse(src, ip)?)).ok()?;
            vec![Record::from_rdata(q.name().clone(), TTL, RData::PTR(PTR(target)))]
        }
        _ => return None,
    };
    let mut reply = Message::new();
    reply
        .set_id(msg.id())
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_authoritative(true)
        .set_recursion_desired(msg.recursion_desired())
        .set_recursion_available(true)
        .set_response_code(ResponseCode::NoError);
    reply.add_query(q.clone());
    reply.add_answers(records);
    Some(reply)
}

/// `4.3.2.1.in-addr.arpa.` → 1.2.3.4
fn parse_reverse(name: &str) -> Option<Ipv4Addr> {
    let rest = name.trim_end_matches('.').to_ascii_lowercase();
    let rest = rest.strip_suffix(".in-addr.arpa")?;
    let mut octets: Vec<u8> = rest.split('.').map(|o| o.parse().ok()).collect::<Option<_>>()?;
    octets.reverse();
    let octets: [u8; 4] = octets.try_into().ok()?;
    Some(Ipv4Addr::from(octets))
}

async fn forward_udp(query: &[u8], upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let local: SocketAddr = if upstream.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let sock = UdpSocket::bind(local).await?;
    // Connected, so a closed port fails at once instead of timing out.
    sock.connect(upstream).await?;
    sock.send(query).await?;
    let mut buf = vec![0u8; 65535];
    let n = tokio::time::timeout(UPSTREAM_TIMEOUT, sock.recv(&mut buf))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply"))??;
    buf.truncate(n);
    Ok(buf)
}

async fn forward_tcp(query: &[u8], upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let exchange = async {
        let mut stream = TcpStream::connect(upstream).await?;
        write_tcp(&mut stream, query).await?;
        read_tcp(&mut stream).await?.ok_or_else(|| std::io::Error::other("upstream closed"))
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply"))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    struct Book(Vec<SocketAddr>);

    impl Resolve for Book {
        fn lookup(&self, _: Ipv4Addr, name: &str) -> Option<Vec<IpAddr>> {
            match name {
                "web." => Some(vec![Ipv4Addr::new(10, 0, 0, 2).into(), Ipv4Addr::new(10, 0, 0, 3).into()]),
                "dual." => Some(vec![Ipv4Addr::new(10, 0, 0, 4).into(), "fd00::4".parse().unwrap()]),
                _ => None,
            }
        }
        fn reverse(&self, _: Ipv4Addr, ip: Ipv4Addr) -> Option<String> {
            (ip == Ipv4Addr::new(10, 0, 0, 2)).then(|| "web".into())
        }
        fn upstreams(&self, _: Ipv4Addr) -> Vec<SocketAddr> {
            self.0.clone()
        }
    }

    fn query(name: &str, kind: RecordType) -> Vec<u8> {
        let mut m = Message::new();
        m.set_id(7).set_recursion_desired(true);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        m.to_vec().unwrap()
    }

    async fn ask(name: &str, kind: RecordType) -> Message {
        let src = Ipv4Addr::new(10, 0, 0, 9);
        Message::from_vec(&answer(&query(name, kind), src, &Book(Vec::new()), false).await.unwrap()).unwrap()
    }

    #[tokio::test]
    async fn answers_container_names_and_fails_the_rest_cleanly() {
        let a = ask("web.", RecordType::A).await;
        assert_eq!(a.id(), 7);
        assert_eq!(a.response_code(), ResponseCode::NoError);
        assert_eq!(a.answers().len(), 2);
        let aaaa = ask("web.", RecordType::AAAA).await;
        assert_eq!((aaaa.response_code(), aaaa.answers().len()), (ResponseCode::NoError, 0));
        // Each family gets its own addresses.
        let dual = ask("dual.", RecordType::AAAA).await;
        assert_eq!(dual.answers().iter().map(|r| r.data().to_string()).collect::<Vec<_>>(), ["fd00::4"]);
        let dual = ask("dual.", RecordType::A).await;
        assert_eq!(dual.answers().iter().map(|r| r.data().to_string()).collect::<Vec<_>>(), ["10.0.0.4"]);
        let ptr = ask("2.0.0.10.in-addr.arpa.", RecordType::PTR).await;
        assert_eq!(ptr.answers()[0].data().to_string(), "web.");
        // Nothing to forward to: SERVFAIL, never silence.
        let other = ask("example.com.", RecordType::A).await;
        assert_eq!(other.response_code(), ResponseCode::ServFail);
        assert!(answer(b"junk", Ipv4Addr::LOCALHOST, &Book(Vec::new()), false).await.is_none());
    }

    /// A resolver on loopback that answers every A question with 192.0.2.1.
    async fn upstream() -> SocketAddr {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 512];
            while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
                let q = Message::from_vec(&buf[..n]).unwrap();
                let mut r = Message::new();
                r.set_id(q.id()).set_message_type(MessageType::Response);
                r.add_queries(q.queries().iter().cloned());
                let a = Record::from_rdata(q.queries()[0].name().clone(), 60, RData::A(A::new(192, 0, 2, 1)));
                r.add_answer(a);
                sock.send_to(&r.to_vec().unwrap(), peer).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn forwards_other_names_upstream() {
        let dead: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let book = Book(vec![dead, upstream().await]);
        let reply = answer(&query("example.com.", RecordType::A), Ipv4Addr::LOCALHOST, &book, false).await.unwrap();
        let reply = Message::from_vec(&reply).unwrap();
        assert_eq!(reply.id(), 7);
        assert_eq!(reply.answers()[0].data().to_string(), "192.0.2.1");
        // Our own names never leave the engine.
        let ours = answer(&query("web.", RecordType::A), Ipv4Addr::LOCALHOST, &book, false).await.unwrap();
        assert_eq!(Message::from_vec(&ours).unwrap().answers().len(), 2);
    }

    #[test]
    fn reverse_names() {
        assert_eq!(parse_reverse("4.3.2.1.in-addr.arpa."), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(parse_reverse("4.3.2.in-addr.arpa."), None);
        assert_eq!(parse_reverse("example.com."), None);
    }
}
