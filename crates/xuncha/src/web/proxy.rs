//! Single sign-on through a trusted reverse proxy: a department's SSO gateway logs the
//! user in and names them in a request header (`[console] trusted_proxy_header`). The
//! header is believed only on a connection from one of `[console] trusted_proxies`;
//! from anywhere else it is ignored, as any client can send it. The name must be an
//! enabled account of the store, whose role the store gives.

use std::net::IpAddr;

use anyhow::Context;
use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;

/// The header to believe and the addresses to believe it from.
#[derive(Debug, Clone)]
pub struct TrustedProxy {
    header: HeaderName,
    nets: Vec<IpNet>,
}

impl TrustedProxy {
    /// From the settings: none without a header; a header needs at least one proxy
    /// address (`10.0.0.5/32`, `10.0.0.0/24`, or a bare address).
    pub fn from_settings(
        header: Option<&str>,
        proxies: &[String],
    ) -> anyhow::Result<Option<TrustedProxy>> {
        let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
            anyhow::ensure!(
                proxies.is_empty(),
                "console.trusted_proxies is set but console.trusted_proxy_header is not: name the header the proxy sets"
            );
            return Ok(None);
        };
        let header = HeaderName::from_bytes(header.as_bytes()).with_context(|| {
            format!("console.trusted_proxy_header `{header}` is not a header name")
        })?;
        anyhow::ensure!(
            !proxies.is_empty(),
            "console.trusted_proxy_header is set but console.trusted_proxies is empty: list the proxy's addresses"
        );
        let nets = proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .with_context(|| {
                        format!("console.trusted_proxies: `{p}` is not an address or a network (127.0.0.1/32)")
                    })
            })
            .collect::<anyhow::Result<Vec<IpNet>>>()?;
        Ok(Some(TrustedProxy { header, nets }))
    }

    /// The user the request names, if it came from a trusted proxy and names one.
    pub fn user<'a>(&self, peer: IpAddr, headers: &'a HeaderMap) -> Option<&'a str> {
        let peer = peer.to_canonical();
        if !self.nets.iter().any(|n| n.contains(&peer)) {
            return None;
        }
        headers
            .get(&self.header)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-remote-user", v.parse().unwrap());
        h
    }

    #[test]
    fn the_header_counts_only_from_a_listed_proxy() {
        let p = TrustedProxy::from_settings(
            Some("X-Remote-User"),
            &["127.0.0.1/32".into(), "10.1.0.0/16".into(), "::1".into()],
        )
        .unwrap()
        .unwrap();
        let h = headers(" li ");
        assert_eq!(p.user("127.0.0.1".parse().unwrap(), &h), Some("li"));
        assert_eq!(p.user("10.1.200.3".parse().unwrap(), &h), Some("li"));
        assert_eq!(p.user("::ffff:127.0.0.1".parse().unwrap(), &h), Some("li"));
        assert_eq!(p.user("::1".parse().unwrap(), &h), Some("li"));
        assert_eq!(p.user("127.0.0.2".parse().unwrap(), &h), None);
        assert_eq!(p.user("10.2.0.1".parse().unwrap(), &h), None);
        assert_eq!(p.user("127.0.0.1".parse().unwrap(), &headers("  ")), None);
        assert_eq!(
            p.user("127.0.0.1".parse().unwrap(), &HeaderMap::new()),
            None
        );
    }

    #[test]
    fn half_settings_and_bad_addresses_are_refused_by_name() {
        assert!(TrustedProxy::from_settings(None, &[]).unwrap().is_none());
        let e = |h: Option<&str>, p: &[&str]| {
            let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
            format!("{:#}", TrustedProxy::from_settings(h, &p).unwrap_err())
        };
        assert!(e(Some("X-Remote-User"), &[]).contains("trusted_proxies"));
        assert!(e(None, &["127.0.0.1"]).contains("trusted_proxy_header"));
        assert!(e(Some("X-Remote-User"), &["localhost"]).contains("`localhost`"));
        assert!(e(Some("bad header"), &["127.0.0.1"]).contains("bad header"));
    }
}
