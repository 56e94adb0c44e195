//! Bad requests get Docker's status codes and a `{"message"}` body.

use berth_e2e::Berthd;

#[test]
fn unknown_api_versions_are_refused() {
    let d = Berthd::start();
    let new = d.request("GET", "/v1.51/info", &[], b"");
    assert_eq!(new.status, 400);
    assert_eq!(new.message(), "client version 1.51 is too new. Maximum supported API version is 1.50");
    let old = d.request("GET", "/v1.23/version", &[], b"");
    assert_eq!(old.status, 400);
    assert!(old.message().starts_with("client version 1.23 is too old. Minimum supported API version is 1.24"));
    for ok in ["/v1.24/version", "/v1.41/version", "/v1.50/version", "/version"] {
        assert_eq!(d.request("GET", ok, &[], b"").status, 200, "{ok}");
    }
    // The CLI honours DOCKER_API_VERSION; an unsupported one fails with the engine's message.
    let out = d.docker_cmd().env("DOCKER_API_VERSION", "1.51").args(["info"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Maximum supported API version is 1.50"));
}

#[test]
fn unknown_routes_and_methods_are_404_page_not_found() {
    let d = Berthd::start();
    for (method, path) in
        [("GET", "/v1.50/nonsense"), ("GET", "/nonsense/deeper"), ("DELETE", "/info"), ("POST", "/_ping")]
    {
        let r = d.request(method, path, &[], b"");
        assert_eq!(r.status, 404, "{method} {path}");
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.message(), "page not found");
    }
}

#[test]
fn ping_carries_the_headers_clients_read() {
    let d = Berthd::start();
    for method in ["GET", "HEAD"] {
        let r = d.request(method, "/_ping", &[], b"");
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["api-version"], "1.50");
        assert_eq!(r.headers["ostype"], "linux");
        assert_eq!(r.headers["docker-experimental"], "false");
        assert_eq!(r.headers["builder-version"], "1");
        assert_eq!(r.headers["swarm"], "inactive");
        assert_eq!(r.headers["cache-control"], "no-cache, no-store, must-revalidate");
        assert_eq!(r.body, if method == "GET" { b"OK".to_vec() } else { Vec::new() });
    }
}

#[test]
fn bad_event_parameters_are_400() {
    let d = Berthd::start();
    let r = d.request("GET", "/events?since=yesterday", &[], b"");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("invalid value for since"));
    let r = d.request("GET", "/events?since=20&until=10", &[], b"");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("cannot be after `until`"));
    let r = d.request("GET", "/events?until=1&filters=%7Bnot-json", &[], b"");
    assert_eq!(r.status, 400);
    assert!(r.message().starts_with("invalid filter"));
}
