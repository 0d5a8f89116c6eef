//! The owner of a loopback TCP client's socket, from the kernel's socket tables
//! (`/proc/net/tcp`, `/proc/net/tcp6`): the row whose local address is the client's and whose
//! remote address is ours is the client's socket, and its `uid` column is its owner.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::security::Peer;

/// Who `client`, connected to our `server` address, is.
pub fn tcp_peer(client: SocketAddr, server: SocketAddr) -> Peer {
    let ip = client.ip().to_canonical();
    if !ip.is_loopback() {
        return Peer::Remote(ip);
    }
    let uid = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .find_map(|table| owner_in(&table, client, server));
    Peer::Loopback { uid }
}

/// The uid of the socket in `table` (the text of `/proc/net/tcp` or `tcp6`) whose local
/// address is `client` and remote address is `server`.
fn owner_in(table: &str, client: SocketAddr, server: SocketAddr) -> Option<u32> {
    let same = |a: SocketAddr, b: SocketAddr| a.ip().to_canonical() == b.ip().to_canonical() && a.port() == b.port();
    table.lines().skip(1).find_map(|row| {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid …
        let fields: Vec<&str> = row.split_whitespace().collect();
        let (local, remote, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
        (same(parse_addr(local)?, client) && same(parse_addr(remote)?, server)).then(|| uid.parse().ok())?
    })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits then the port (IPv6): each 32-bit word is printed as
/// the kernel holds it in memory, so its bytes come back in native order.
fn parse_addr(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| addr.get(i * 8..i * 8 + 8).and_then(|w| u32::from_str_radix(w, 16).ok());
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?.to_ne_bytes())),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Rows as a little-endian kernel prints them: the server listening and accepted on
    // 127.0.0.1:8080 (uid 1000), the client 127.0.0.1:40000 (uid 65534).
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 3 1 0000000000000000 20 4 30 10 -1
";
    // An IPv6 client [::1]:40001 of uid 0, and a v4-mapped one of uid 7.
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:9C41 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000     0        0 4 1
   1: 0000000000000000FFFF00000100007F:9C42 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000     7        0 5 1
";

    #[test]
    fn finds_the_clients_socket_not_ours() {
        if cfg!(target_endian = "big") {
            return;
        }
        let server: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(owner_in(TCP, "127.0.0.1:40000".parse().unwrap(), server), Some(65534));
        assert_eq!(owner_in(TCP, "127.0.0.1:40009".parse().unwrap(), server), None);
        assert_eq!(owner_in(TCP6, "[::1]:40001".parse().unwrap(), "[::1]:8080".parse().unwrap()), Some(0));
        assert_eq!(owner_in(TCP6, "127.0.0.1:40002".parse().unwrap(), server), Some(7));
        assert_eq!(parse_addr("zz"), None);
    }

    #[test]
    fn a_real_loopback_connection_is_ours() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_accepted, from) = listener.accept().unwrap();
        let me = rustix::process::geteuid().as_raw();
        assert_eq!(tcp_peer(from, listener.local_addr().unwrap()), Peer::Loopback { uid: Some(me) });
        drop(client);
        assert_eq!(
            tcp_peer("192.0.2.1:5".parse().unwrap(), "0.0.0.0:1".parse().unwrap()),
            Peer::Remote("192.0.2.1".parse().unwrap())
        );
    }
}
