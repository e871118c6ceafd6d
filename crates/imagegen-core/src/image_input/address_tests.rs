use super::*;

const PROJECT: &str = "https://abcdefghijklmnopqrst.supabase.co";
const LOCAL: &str = "http://127.0.0.1:54321";

fn policy(project: &str, hosts: &str) -> ImageInputPolicy {
    ImageInputPolicy::new(
        Origin::of(project),
        ImageInputPolicy::parse_hosts(hosts).unwrap(),
    )
}

fn refused(policy: &ImageInputPolicy, url: &str) -> Refusal {
    policy
        .check(url)
        .expect_err(&format!("{url} should be refused"))
}

#[test]
fn the_projects_storage_objects_are_accepted() {
    let p = policy(PROJECT, "");
    for url in [
        "https://abcdefghijklmnopqrst.supabase.co/storage/v1/object/public/generated-images/u/g.webp",
        "https://ABCDEFGHIJKLMNOPQRST.supabase.co:443/storage/v1/object/public/generated-images/u/g.png",
        "https://abcdefghijklmnopqrst.supabase.co/storage/v1/object/sign/generated-images/u/g.webp?token=eyJ.a.b",
    ] {
        assert_eq!(p.check(url), Ok(()), "{url}");
    }
}

#[test]
fn a_local_project_is_accepted_at_its_configured_origin_only() {
    let p = policy(LOCAL, "");
    let object = "/storage/v1/object/public/generated-images/u/g.webp";
    assert_eq!(p.check(&format!("{LOCAL}{object}")), Ok(()));
    assert_eq!(
        p.check(&format!("{LOCAL}/storage/v1/object/sign/b/u/g.png?token=t")),
        Ok(())
    );
    // The same address on another port, or as another spelling of loopback, is not the project.
    assert_eq!(
        refused(&p, &format!("http://127.0.0.1:54322{object}")),
        Refusal::NotHttps
    );
    assert_eq!(
        refused(&p, &format!("http://localhost:54321{object}")),
        Refusal::NotHttps
    );
}

#[test]
fn other_routes_of_the_project_are_refused() {
    let p = policy(LOCAL, "");
    for path in [
        "/functions/v1/process-jobs",
        "/rest/v1/images",
        "/storage/v1/object/generated-images/u/g.png",
        "/storage/v1/object/public/",
        "/storage/v1/object/public/../../../auth/v1/user",
        "/storage/v1/object/public/b/./x.png",
        "/storage/v1/object/public/b/%2e%2e/%2E%2E/auth/v1/user",
        "/storage/v1/object/public/b%2f..%2fx",
        "/storage/v1/object/public/b//x.png",
        "",
    ] {
        assert_eq!(
            refused(&p, &format!("{LOCAL}{path}")),
            Refusal::NotStorageObject,
            "{path}"
        );
    }
}

#[test]
fn allow_listed_hosts_are_accepted_over_https() {
    let p = policy(PROJECT, "images.example.com, *.cdn.example.org");
    for url in [
        "https://images.example.com/a.png",
        "https://IMAGES.example.com:443/a.png?v=2",
        "https://eu.cdn.example.org/x/y.jpg",
        "https://a.b.cdn.example.org/y.jpg",
    ] {
        assert_eq!(p.check(url), Ok(()), "{url}");
    }
    assert_eq!(
        refused(&p, "https://cdn.example.org/y.jpg"),
        Refusal::HostNotAllowed("cdn.example.org".into()),
        "a wildcard covers subdomains, not the suffix itself"
    );
    assert_eq!(
        refused(&p, "https://evilcdn.example.org/y.jpg"),
        Refusal::HostNotAllowed("evilcdn.example.org".into())
    );
    assert_eq!(
        refused(&p, "https://images.example.com.evil.net/a.png"),
        Refusal::HostNotAllowed("images.example.com.evil.net".into())
    );
}

#[test]
fn hosts_not_on_the_list_are_refused_even_when_public() {
    let p = policy(PROJECT, "");
    assert_eq!(
        refused(&p, "https://example.com/a.png"),
        Refusal::HostNotAllowed("example.com".into())
    );
    assert_eq!(
        refused(
            &p,
            "https://other-project.supabase.co/storage/v1/object/public/b/x.png"
        ),
        Refusal::HostNotAllowed("other-project.supabase.co".into())
    );
    assert_eq!(
        refused(&policy(PROJECT, ""), "https://example.com/a.png"),
        refused(&ImageInputPolicy::default(), "https://example.com/a.png"),
        "no project configured: the same rule"
    );
}

#[test]
fn plain_http_is_refused() {
    let p = policy(PROJECT, "images.example.com");
    assert_eq!(
        refused(&p, "http://images.example.com/a.png"),
        Refusal::NotHttps
    );
    assert_eq!(
        refused(
            &p,
            "http://abcdefghijklmnopqrst.supabase.co/storage/v1/object/public/b/x.png"
        ),
        Refusal::NotHttps,
        "the project over another scheme is not the project"
    );
}

#[test]
fn credentials_are_refused() {
    let p = policy(LOCAL, "images.example.com");
    for url in [
        "https://user:pass@images.example.com/a.png",
        "https://images.example.com@169.254.169.254/latest/meta-data",
        "https://@images.example.com/a.png",
        "http://u@127.0.0.1:54321/storage/v1/object/public/b/x.png",
    ] {
        assert_eq!(refused(&p, url), Refusal::Credentials, "{url}");
    }
}

#[test]
fn ports_other_than_the_default_are_refused() {
    let p = policy(PROJECT, "images.example.com");
    assert_eq!(
        refused(&p, "https://images.example.com:8443/a.png"),
        Refusal::Port("8443".into())
    );
    assert_eq!(
        refused(&p, "https://images.example.com:80/a.png"),
        Refusal::Port("80".into())
    );
    assert_eq!(
        refused(&p, "https://images.example.com:/a.png"),
        Refusal::Port("".into())
    );
}

#[test]
fn ip_literals_are_refused_in_every_notation() {
    let p = policy(PROJECT, "images.example.com");
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1/a.png",
        "https://10.0.0.5/a.png",
        "https://2852039166/",
        "https://0xA9FEA9FE/",
        "https://0xa9.0xfe.0xa9.0xfe/",
        "https://0251.0376.0251.0376/",
        "https://127.1/",
        "https://0x/",
        "https://images.example.com.127.0.0.1/",
        "https://127.0.0.1./a.png",
        "https://[::1]/a.png",
        "https://[::ffff:169.254.169.254]/a.png",
        "https://[fd00:ec2::254]:443/",
    ] {
        assert!(
            matches!(refused(&p, url), Refusal::IpAddress(_)),
            "{url}: {:?}",
            p.check(url)
        );
    }
}

#[test]
fn internal_names_are_refused() {
    let p = policy(PROJECT, "");
    for url in [
        "https://localhost/a.png",
        "https://LOCALHOST/a.png",
        "https://metadata/computeMetadata/v1/",
        "https://instance-data/latest",
        "https://api.localhost/a.png",
        "https://printer.local/a.png",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://db.svc.cluster.local/",
        "https://router.home.arpa/",
        "https://nas.lan/",
        "https://1.0.0.127.in-addr.arpa/",
        "https://server.localdomain/",
    ] {
        assert!(
            matches!(refused(&p, url), Refusal::InternalHost(_)),
            "{url}: {:?}",
            p.check(url)
        );
    }
}

#[test]
fn encoded_and_odd_hosts_are_refused() {
    let p = policy(PROJECT, "images.example.com");
    assert_eq!(
        refused(&p, "https://images%2eexample.com/a.png"),
        Refusal::EncodedHost
    );
    assert_eq!(
        refused(&p, "https://%6c%6f%63%61%6c%68%6f%73%74/a.png"),
        Refusal::EncodedHost
    );
    assert_eq!(
        refused(&p, "https://１２７.０.０.１/a.png"),
        Refusal::NonAsciiHost,
        "full-width digits become 127.0.0.1 under IDNA"
    );
    assert_eq!(
        refused(&p, "https://images.example.com\\@evil.net/a.png"),
        Refusal::Backslash
    );
    for url in [
        "https://images_example.com/a.png",
        "https://-images.example.com/a.png",
        "https://images..example.com/a.png",
        "https://images.example.com./a.png",
    ] {
        assert!(
            matches!(refused(&p, url), Refusal::MalformedHost(_)),
            "{url}: {:?}",
            p.check(url)
        );
    }
    for url in [
        "ftp://images.example.com/a.png",
        "images.example.com/a.png",
        "data:image/png;base64,AA",
    ] {
        assert_eq!(refused(&p, url), Refusal::NotHttpUrl, "{url}");
    }
    assert_eq!(refused(&p, "https:///a.png"), Refusal::NoHost);
}

#[test]
fn every_refusal_says_which_rule_failed() {
    let p = policy(PROJECT, "");
    let message = |url: &str| refused(&p, url).to_string();
    assert_eq!(message("http://example.com/a.png"), "must use https");
    assert_eq!(
        message("https://169.254.169.254/latest"),
        "must name a host, not an IP address (169.254.169.254)"
    );
    assert_eq!(
        message("https://example.com/a.png"),
        "is neither in this project's Storage nor on a host allowed for input images (example.com is not)"
    );
}

#[test]
fn allow_list_entries_are_checked_when_configured() {
    assert_eq!(
        ImageInputPolicy::parse_hosts(" A.example.com ,, *.cdn.example.org ").unwrap(),
        vec![
            HostPattern::Exact("a.example.com".into()),
            HostPattern::Subdomains("cdn.example.org".into())
        ]
    );
    assert_eq!(ImageInputPolicy::parse_hosts("").unwrap(), vec![]);
    for bad in [
        "localhost",
        "169.254.169.254",
        "*.com",
        "*.local",
        "[::1]",
        "cdn.example.com:8443",
        "ex ample.com",
        "*",
    ] {
        let e = ImageInputPolicy::parse_hosts(bad).expect_err(bad);
        assert!(
            e.contains(&format!("{:?}", bad.trim().to_ascii_lowercase())),
            "{e}"
        );
    }
}

#[test]
fn origins_print_as_configured() {
    assert_eq!(Origin::of(LOCAL).unwrap().to_string(), LOCAL);
    assert_eq!(
        Origin::of("https://Ref.supabase.co:443/")
            .unwrap()
            .to_string(),
        "https://ref.supabase.co"
    );
    assert_eq!(Origin::of("not a url"), None);
}
