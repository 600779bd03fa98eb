//! Builder setters shared by the provider clients.

/// Expands, inside `impl SomeClientBuilder { ... }`, to the setters every client builder
/// offers. The builder must have the fields `config: inbox_http::Config` and
/// `base_url_error: Option<String>`.
#[macro_export]
macro_rules! config_setters {
    () => {
        /// Sends requests under this base URL instead (a proxy, a test server). `https` is
        /// required unless the host is loopback; a refused URL is reported by `build`.
        pub fn base_url(mut self, url: &str) -> Self {
            match $crate::parse_base_url(url) {
                ::std::result::Result::Ok(url) => {
                    self.config.base_url = url;
                    self.base_url_error = ::std::option::Option::None;
                }
                ::std::result::Result::Err(e) => {
                    self.base_url_error = ::std::option::Option::Some(e)
                }
            }
            self
        }

        /// Limits each request, from connecting to the last body byte (default 30 s).
        pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.config.timeout = ::std::option::Option::Some(timeout);
            self
        }

        /// Lets requests take as long as they take.
        pub fn no_timeout(mut self) -> Self {
            self.config.timeout = ::std::option::Option::None;
            self
        }

        /// Limits connecting (default 10 s; not applied to a client given with `http_client`).
        pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.config.connect_timeout = timeout;
            self
        }

        /// Sets the `User-Agent` (not applied to a client given with `http_client`).
        pub fn user_agent(
            mut self,
            user_agent: impl ::std::convert::Into<::std::string::String>,
        ) -> Self {
            self.config.user_agent = user_agent.into();
            self
        }

        /// Sets the retry policy; `RetryPolicy::none()` turns retries off.
        pub fn retry_policy(mut self, policy: $crate::RetryPolicy) -> Self {
            self.config.retry = policy;
            self
        }

        /// Shares an existing HTTP client (its pool, proxy and TLS settings). Build it with
        /// `redirect(reqwest::redirect::Policy::none())`: a client that follows redirects
        /// would carry the key to wherever a redirect points.
        pub fn http_client(mut self, client: $crate::reqwest::Client) -> Self {
            self.config.http_client = ::std::option::Option::Some(client);
            self
        }

        /// Refuses response bodies larger than this many bytes (default 8 MiB).
        pub fn max_body_bytes(mut self, bytes: usize) -> Self {
            self.config.max_body_bytes = bytes;
            self
        }

        /// Ends page streams with `Error::PageCap` after this many pages if more remain
        /// (default 10 000; `None` for no cap).
        pub fn max_pages(mut self, pages: ::std::option::Option<usize>) -> Self {
            self.config.max_pages = pages;
            self
        }
    };
}
