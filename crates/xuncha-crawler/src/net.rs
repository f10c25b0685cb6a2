//! Canonical URLs and the SSRF guard.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use url::{Host, Url};

/// Query parameters that only track where a click came from; dropping them makes one
/// posting one URL.
const TRACKING_PARAMS: &[&str] = &["spm", "fbclid", "gclid"];

/// The canonical form of a URL: no fragment, no tracking parameters, the remaining query
/// pairs sorted. (The `url` crate already lower-cases scheme and host, drops default
/// ports and resolves dot segments.)
///
/// ```
/// use url::Url;
/// let u = Url::parse("HTTPS://Jobs.Example:443/a/../job/1.html?utm_source=x&b=2&a=1#apply").unwrap();
/// assert_eq!(xuncha_crawler::canonicalize(&u).as_str(), "https://jobs.example/job/1.html?a=1&b=2");
/// ```
pub fn canonicalize(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !(k.starts_with("utm_") || TRACKING_PARAMS.contains(&k.as_ref())))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    url
}

/// The politeness key of a URL: host, and port when it is not the default.
pub(crate) fn host_key(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    }
}

/// Whether an address is one the crawler must not reach unless a profile allows it:
/// loopback, private, link-local, carrier-grade NAT, unspecified, multicast, broadcast,
/// documentation and benchmarking ranges, and IPv6 unique-local or site-local, including
/// IPv4 addresses mapped or translated into IPv6.
///
/// ```
/// use xuncha_crawler::is_forbidden_ip;
/// assert!(is_forbidden_ip("127.0.0.1".parse().unwrap()));
/// assert!(is_forbidden_ip("169.254.169.254".parse().unwrap()));
/// assert!(is_forbidden_ip("::ffff:10.0.0.1".parse().unwrap()));
/// assert!(!is_forbidden_ip("203.119.1.1".parse().unwrap()));
/// ```
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let seg = v6.segments();
            // NAT64 (64:ff9b::/96) embeds an IPv4 address in the last 32 bits.
            if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
                let [a, b] = seg[6].to_be_bytes();
                let [c, d] = seg[7].to_be_bytes();
                return forbidden_v4(Ipv4Addr::new(a, b, c, d));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80 // link-local
                || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routable inside)
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

/// Why a URL may not be fetched before any connection is made.
pub(crate) fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not crawled", url.scheme()));
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(Host::Domain(_)) => return Ok(()), // checked at resolution
        None => return Err("no host".into()),
    };
    if is_always_forbidden(ip) {
        return Err(format!(
            "refused: {ip} is a link-local or cloud metadata address, never crawled"
        ));
    }
    if allow_private {
        return Ok(());
    }
    if is_forbidden_ip(ip) {
        Err(format!(
            "refused: {ip} is a private, loopback or link-local address (set allow_private_addresses in the site profile to crawl it)"
        ))
    } else {
        Ok(())
    }
}

/// The refusal the guarded resolver gives; found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("refused: {host} resolves only to private, loopback or link-local addresses (set allow_private_addresses in the site profile to crawl it)")]
pub(crate) struct SsrfRefused {
    host: String,
}

/// Addresses never reached, whatever a profile allows: link-local (where cloud metadata
/// services live, 169.254.169.254) and the metadata addresses some clouds put elsewhere
/// (Alibaba Cloud's 100.100.100.200, AWS's fd00:ec2::254).
pub fn is_always_forbidden(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4 == Ipv4Addr::new(100, 100, 100, 200),
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            (seg[0] & 0xffc0) == 0xfe80
                || v6
                    == "fd00:ec2::254"
                        .parse::<std::net::Ipv6Addr>()
                        .expect("literal")
        }
    }
}

/// A resolver that drops forbidden addresses, so that a name cannot lead the crawler into
/// the regulator's own network. Filtering the very addresses the connection will use also
/// defeats DNS rebinding between check and use. `AllowPrivate` serves hops whose host a
/// profile exempts, and still drops the addresses [`is_always_forbidden`] names.
#[derive(Clone, Copy, Debug)]
pub(crate) enum GuardedResolver {
    /// Public addresses only.
    Strict,
    /// Private addresses too, never link-local or metadata.
    AllowPrivate,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let strict = matches!(self, GuardedResolver::Strict);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !(is_always_forbidden(a.ip()) || (strict && is_forbidden_ip(a.ip()))))
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(SsrfRefused { host }) as Box<_>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forbidden_ranges() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(is_forbidden_ip(ip(s)), "{s}");
        }
        for s in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2400:3200::1",
            "64:ff9b::808:808",
        ] {
            assert!(!is_forbidden_ip(ip(s)), "{s}");
        }
    }

    #[test]
    fn check_url_refuses_literals_unless_allowed() {
        let u = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert!(check_url(&u, false).unwrap_err().contains("127.0.0.1"));
        assert!(check_url(&u, true).is_ok());
        let u = Url::parse("http://[::1]/").unwrap();
        assert!(check_url(&u, false).is_err());
        let u = Url::parse("ftp://jobs.example/").unwrap();
        assert!(check_url(&u, true).is_err());
        let u = Url::parse("https://jobs.example/").unwrap();
        assert!(check_url(&u, false).is_ok());
    }

    #[test]
    fn metadata_addresses_are_refused_even_where_private_ones_are_allowed() {
        for u in [
            "http://169.254.169.254/",
            "http://[::ffff:169.254.169.254]/",
            "http://0xA9FEA9FE/latest/meta-data/",
            "http://100.100.100.200/",
        ] {
            let e = check_url(&Url::parse(u).unwrap(), true).unwrap_err();
            assert!(e.contains("never crawled"), "{u}: {e}");
        }
    }

    #[test]
    fn canonical_drops_tracking_and_sorts() {
        let u = Url::parse("http://a.example/x?spm=1&utm_medium=m#f").unwrap();
        assert_eq!(canonicalize(&u).as_str(), "http://a.example/x");
        let u = Url::parse("http://a.example/x?page=2&city=sz").unwrap();
        assert_eq!(
            canonicalize(&u).as_str(),
            "http://a.example/x?city=sz&page=2"
        );
        assert_eq!(
            host_key(&Url::parse("http://127.0.0.1:99/").unwrap()),
            "127.0.0.1:99"
        );
        assert_eq!(
            host_key(&Url::parse("https://a.example:443/").unwrap()),
            "a.example"
        );
    }
}
