//! Per-address rate limiting of sign-up and sign-in. The address is the direct peer's, unless
//! the peer is a trusted proxy: then `X-Forwarded-For` is walked from the right, past trusted
//! proxies, to the first address that is not one. Whatever a client writes to the left of that
//! is its own invention, and an entry that does not parse ends the walk: it is counted as the
//! last trusted hop, never as what the client wrote. An IPv6 client is counted per /64 (what one
//! subscriber is given), an IPv4-mapped address as the IPv4 address it is.

use crate::error::IssuerError;
use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Above this many tracked addresses, the ones that are back to a full burst are forgotten.
const MAX_TRACKED_ADDRESSES: usize = 100_000;

pub struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    trusted_proxies: Vec<IpAddr>,
}

impl RateLimiter {
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32, trusted_proxies: Vec<IpAddr>) -> Self {
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            trusted_proxies: trusted_proxies
                .into_iter()
                .map(|proxy| proxy.to_canonical())
                .collect(),
        }
    }

    /// Counts one attempt from the request's client; 429 with `Retry-After` when over the limit.
    pub fn check(&self, request: &HttpRequest) -> Result<(), IssuerError> {
        let Some(client) = self.client_address(request) else {
            return Ok(());
        };
        if self.limiter.len() > MAX_TRACKED_ADDRESSES {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&client).map_err(|not_until| {
            IssuerError::too_many_attempts(not_until.wait_time_from(self.clock.now()))
        })
    }

    /// The address the request's attempts are counted under.
    pub fn client_address(&self, request: &HttpRequest) -> Option<IpAddr> {
        let mut client = request.peer_addr()?.ip().to_canonical();
        let entries: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        // `client` is the last trusted hop while the walk goes on.
        for entry in entries.into_iter().rev() {
            if !self.trusted_proxies.contains(&client) {
                break;
            }
            match parse_entry(entry) {
                Some(address) => client = address,
                None => break,
            }
        }
        Some(counted_as(client))
    }
}

/// An `X-Forwarded-For` entry: an address, with a port or without (some proxies add one).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<std::net::SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

/// An IPv6 address is counted with the rest of its /64: one subscriber holds all of it.
fn counted_as(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => IpAddr::V6((v6.to_bits() & !u128::from(u64::MAX)).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn limiter(trusted: &[&str]) -> RateLimiter {
        let n = |v| NonZeroU32::new(v).unwrap();
        RateLimiter::new(
            n(60),
            n(2),
            trusted.iter().map(|s| s.parse().unwrap()).collect(),
        )
    }

    fn from(peer: &str, forwarded: Option<&str>) -> HttpRequest {
        let mut request = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        if let Some(f) = forwarded {
            request = request.insert_header(("X-Forwarded-For", f));
        }
        request.to_http_request()
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let limiter = limiter(&[]);
        assert_eq!(
            limiter.client_address(&from("10.0.0.9", Some("1.2.3.4"))),
            Some("10.0.0.9".parse().unwrap())
        );
    }

    #[test]
    fn the_walk_from_the_right_counts_the_first_untrusted_address_and_never_a_client_s_junk() {
        let limiter = limiter(&["10.0.0.1", "10.0.0.2", "::ffff:10.0.0.3"]);
        let cases: &[(&str, &[&str], &str)] = &[
            // (peer, X-Forwarded-For lines, counted as)
            ("10.0.0.1", &["1.2.3.4"], "1.2.3.4"),
            ("10.0.0.1", &["6.6.6.6, 1.2.3.4"], "1.2.3.4"),
            ("10.0.0.1", &["6.6.6.6, unknown, 1.2.3.4"], "1.2.3.4"),
            ("10.0.0.1", &["unknown, 6.6.6.6 , 1.2.3.4"], "1.2.3.4"),
            ("10.0.0.1", &["6.6.6.6, 1.2.3.4:5678"], "1.2.3.4"),
            ("10.0.0.1", &["6.6.6.6", "1.2.3.4"], "1.2.3.4"),
            ("10.0.0.1", &["6.6.6.6, 1.2.3.4, 10.0.0.2"], "1.2.3.4"),
            // The rightmost entry is junk: counted as the proxy that passed it on.
            ("10.0.0.1", &["6.6.6.6, unknown"], "10.0.0.1"),
            ("10.0.0.1", &["1.2.3.4, 1.2.3.4:99999"], "10.0.0.1"),
            ("10.0.0.1", &["6.6.6.6, garbage, 10.0.0.2"], "10.0.0.2"),
            ("10.0.0.1", &["6.6.6.6, , 10.0.0.2"], "10.0.0.2"),
            ("10.0.0.1", &[""], "10.0.0.1"),
            ("10.0.0.1", &["10.0.0.2"], "10.0.0.2"),
            ("10.0.0.1", &[], "10.0.0.1"),
            // An untrusted peer is the client, whatever it writes.
            ("10.0.0.9", &["1.2.3.4"], "10.0.0.9"),
            // IPv4-mapped addresses are their IPv4 address, trusted proxies included.
            ("10.0.0.1", &["::ffff:1.2.3.4"], "1.2.3.4"),
            ("10.0.0.1", &["6.6.6.6, 1.2.3.4, 10.0.0.3"], "1.2.3.4"),
            // IPv6 clients are counted per /64.
            ("10.0.0.1", &["2001:db8:1:2:aaaa::1"], "2001:db8:1:2::"),
            ("10.0.0.1", &["[2001:db8:1:2::5]:443"], "2001:db8:1:2::"),
            ("2001:db8:1:2::9", &[], "2001:db8:1:2::"),
        ];
        for (peer, lines, counted) in cases {
            let mut request = TestRequest::default()
                .peer_addr(std::net::SocketAddr::new(peer.parse().unwrap(), 4000));
            for line in *lines {
                request = request.append_header(("X-Forwarded-For", *line));
            }
            assert_eq!(
                limiter.client_address(&request.to_http_request()),
                Some(counted.parse().unwrap()),
                "peer {peer}, X-Forwarded-For {lines:?}"
            );
        }
    }

    #[test]
    fn a_trusted_proxy_is_believed_about_the_address_it_saw() {
        let limiter = limiter(&["10.0.0.1"]);
        let request = from("10.0.0.1", Some("6.6.6.6, 1.2.3.4"));
        assert_eq!(
            limiter.client_address(&request),
            Some("1.2.3.4".parse().unwrap())
        );
    }

    #[test]
    fn attempts_beyond_the_burst_get_429_with_retry_after() {
        let limiter = limiter(&[]);
        let request = from("10.0.0.9", None);
        assert!(limiter.check(&request).is_ok());
        assert!(limiter.check(&request).is_ok());
        let refused = limiter.check(&request).unwrap_err();
        assert!(
            matches!(refused, IssuerError::TooManyAttempts { retry_after: 1 }),
            "{refused:?}"
        );
        assert!(
            limiter.check(&from("10.0.0.10", None)).is_ok(),
            "another address has its own budget"
        );
    }
}
