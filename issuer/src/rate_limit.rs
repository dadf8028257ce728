//! Per-address rate limiting of sign-up and sign-in. The address is the direct peer's, unless
//! the peer is a trusted proxy, in which case it is the right-most untrusted address of
//! `X-Forwarded-For`: whatever a client writes to the left of that is its own invention.

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
            trusted_proxies,
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
            let wait = not_until.wait_time_from(self.clock.now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            IssuerError::TooManyAttempts {
                retry_after: seconds.max(1),
            }
        })
    }

    pub fn client_address(&self, request: &HttpRequest) -> Option<IpAddr> {
        let peer = request.peer_addr()?.ip();
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map_while(|part| part.trim().parse().ok())
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusted_proxies.contains(ip))
                .unwrap_or(peer),
        )
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
