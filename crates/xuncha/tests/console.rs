//! `xuncha serve`, the real binary on a loopback port, over a SQLite store that
//! `xuncha run --once` filled from examples/postings.jsonl, one hostile posting and one
//! posting of a hostile site on another loopback port: who gets in (passwords, or a
//! trusted single sign-on proxy's header), what a POST must carry, what each role may do,
//! how posting text and stored pages are shown, what the queue's filters take, and what
//! "recheck now" records.

mod process;
mod serve;

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use process::{checkout, filed_examples, ok, repo, xuncha};
use serve::http::{enc, get, login, request, request_with, try_login};
use serve::{add_user, serve};

const ANALYST: (&str, &str) = ("li", "analyst password 1");
const SUPERVISOR: (&str, &str) = ("wang", "supervisor password 2");
/// An account the tests disable.
const LEAVER: (&str, &str) = ("zhao", "leaver password 3");
const ADMIN: (&str, &str) = ("chen", "admin password 4");

/// The store every test serves: filled once, shared (each test has its own server).
struct Store {
    dir: tempfile::TempDir,
    /// A lead of an ordinary posting.
    lead: String,
    /// The lead of the hostile posting.
    hostile: String,
    /// A lead whose posting page is on the hostile site (a loopback port).
    fetched: String,
}

impl Store {
    fn path(&self) -> &Path {
        self.dir.path()
    }
}

const HOSTILE_TITLE: &str = "<script>alert(1)</script>招聘";
const HOSTILE_IMG: &str = "<img src=x onerror=alert(1)>";

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = checkout();
        let d = dir.path();
        std::fs::create_dir_all(d.join("data/inbox")).unwrap();
        let mut postings = std::fs::read_to_string(repo().join("examples/postings.jsonl")).unwrap();
        let hostile = serde_json::json!({
            "schema": "xuncha.posting/1",
            "id": "evil-1",
            "source": "evil",
            "url": "javascript:alert(1)",
            "title": HOSTILE_TITLE,
            "company": "<b>某公司</b>",
            "description": format!("入职先交300元押金。{HOSTILE_IMG}"),
        });
        postings.push_str(&format!("{hostile}\n"));
        let site = serve::hostile_site();
        postings.push_str(&format!("{}\n", serve::hostile_posting(site, "site-1")));
        // A ring: one number written two ways on two postings, a hostile title.
        for (id, contact) in [
            ("ring-a", "电话 139 1234 5678"),
            ("ring-b", "加薇：一三九一二三四五六七八"),
        ] {
            let p = serde_json::json!({
                "id": id,
                "source": "ring",
                "title": HOSTILE_TITLE,
                "description": format!("入职先交300元押金，{contact}"),
            });
            postings.push_str(&format!("{p}\n"));
        }
        std::fs::write(d.join("data/inbox/batch.jsonl"), postings).unwrap();
        ok(xuncha(d, &["run", "--once"]).output().unwrap());

        let list = ok(xuncha(d, &["leads", "list"]).output().unwrap());
        let id_of = |line: &str| line.split_whitespace().next().unwrap().to_string();
        let hostile = id_of(list.lines().find(|l| l.contains("evil-1")).expect(&list));
        let fetched = id_of(list.lines().find(|l| l.contains("site-1")).expect(&list));
        let lead = id_of(
            list.lines()
                .skip(1)
                .find(|l| !l.contains("evil-1") && !l.contains("site-1") && !l.contains("ring-"))
                .unwrap(),
        );
        for ((name, password), role) in [
            (ANALYST, "analyst"),
            (SUPERVISOR, "supervisor"),
            (LEAVER, "analyst"),
        ] {
            add_user(d, name, password, role);
        }
        Store {
            dir,
            lead,
            hostile,
            fetched,
        }
    })
}

fn show(dir: &Path, lead: &str) -> serde_json::Value {
    serde_json::from_str(&ok(xuncha(dir, &["leads", "show", lead, "--json"])
        .output()
        .unwrap()))
    .unwrap()
}

fn routes(dir: &Path) -> Vec<(String, String, bool)> {
    ok(xuncha(dir, &["serve", "--routes"]).output().unwrap())
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_string(), f[1].to_string(), f[2] == "anonymous")
        })
        .collect()
}

#[test]
fn every_route_but_the_anonymous_ones_sends_a_stranger_to_login() {
    let s = store();
    let c = serve(s.path(), &[]);
    let routes = routes(s.path());
    let anonymous: Vec<String> = routes
        .iter()
        .filter(|r| r.2)
        .map(|r| format!("{} {}", r.0, r.1))
        .collect();
    assert_eq!(
        anonymous,
        ["GET /healthz", "GET /login", "POST /login"],
        "only these answer strangers"
    );
    assert!(routes.len() >= 10, "{routes:?}");
    // Unknown paths are not told apart from pages either.
    let mut tried = routes.clone();
    tried.push(("GET".into(), "/no/such/page".into(), false));
    tried.push(("POST".into(), "/no/such/page".into(), false));
    for (method, path, anonymous) in tried {
        if anonymous {
            continue;
        }
        let path = path
            .replace("{id}", &s.lead)
            .replace("{sha}", &"ab".repeat(32));
        for cookie in [None, Some("xuncha_session=forged"), Some("xuncha_session=")] {
            let r = request(
                c.port,
                &method,
                &path,
                cookie,
                Some("csrf=x&action=confirmed"),
            );
            assert_eq!(r.status, 303, "{method} {path} with {cookie:?}: {r:?}");
            assert_eq!(r.header("location"), Some("/login"), "{method} {path}");
            assert!(!r.body.contains(&s.lead), "{method} {path}");
        }
    }
    let health = request(c.port, "GET", "/healthz", None, None);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    assert_eq!(show(s.path(), &s.lead)["verdict"], serde_json::Value::Null);
}

#[test]
fn login_works_a_wrong_password_fails_and_the_cookie_is_guarded() {
    let s = store();
    let c = serve(s.path(), &[]);

    let wrong = try_login(c.port, ANALYST.0, "not the password");
    let unknown = try_login(c.port, "nobody", "not the password");
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert!(wrong.cookie("xuncha_session").is_none());
    // The same answer for both, but for the form's own pairing token.
    assert_eq!(
        wrong.body.replace(&wrong.csrf(), ""),
        unknown.body.replace(&unknown.csrf(), "")
    );

    let r = try_login(c.port, ANALYST.0, ANALYST.1);
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(r.header("location"), Some("/"));
    let set = r
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("xuncha_session="))
        .unwrap()
        .to_string();
    let flags: Vec<&str> = set.split(';').map(str::trim).collect();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(flags.contains(&flag), "{flag} missing: {set}");
    }
    let session = r.cookie("xuncha_session").unwrap();
    assert_eq!(session.len(), "xuncha_session=".len() + 64);

    let page = get(c.port, "/", &session);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("线索队列"), "{}", page.body);
    assert!(page.body.contains(&s.lead[..12]));
    assert_eq!(
        page.header("content-security-policy"),
        Some("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));

    // Logging out ends the session on the server, not only in the browser.
    let form = format!("csrf={}", page.csrf());
    let out = request(c.port, "POST", "/logout", Some(&session), Some(&form));
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), Some("/login"));
    assert_eq!(get(c.port, "/", &session).status, 303);
}

#[test]
fn a_post_without_its_csrf_token_is_refused() {
    let s = store();
    let c = serve(s.path(), &[]);
    let session = login(c.port, ANALYST);
    let csrf = get(c.port, "/", &session).csrf();
    let mark = format!("/leads/{}/mark", s.lead);
    for form in [
        "action=confirmed&note=x".to_string(),
        "csrf=&action=confirmed".to_string(),
        format!("csrf={}&action=confirmed", "0".repeat(64)),
    ] {
        let r = request(c.port, "POST", &mark, Some(&session), Some(&form));
        assert_eq!(r.status, 403, "{form}: {r:?}");
    }
    assert_eq!(
        request(c.port, "POST", "/logout", Some(&session), Some("")).status,
        403
    );
    // Another session's token is no good either.
    let other = login(c.port, SUPERVISOR);
    let theirs = get(c.port, "/", &other).csrf();
    assert_ne!(theirs, csrf);
    let form = format!("csrf={theirs}&action=confirmed");
    assert_eq!(
        request(c.port, "POST", &mark, Some(&session), Some(&form)).status,
        403
    );
    // A login form without its pairing token is refused too.
    let r = request(
        c.port,
        "POST",
        "/login",
        None,
        Some(&format!("name={}&password={}", ANALYST.0, enc(ANALYST.1))),
    );
    assert_eq!(r.status, 403);
    assert_eq!(show(s.path(), &s.lead)["verdict"], serde_json::Value::Null);
}

#[test]
fn an_analyst_gives_verdicts_but_only_a_supervisor_assigns() {
    let s = store();
    let c = serve(s.path(), &[]);
    let lead = &s.hostile;
    let mark = format!("/leads/{lead}/mark");
    let analyst = login(c.port, ANALYST);
    let csrf = get(c.port, "/", &analyst).csrf();

    for action in ["assign&to=li", "reopen"] {
        let form = format!("csrf={csrf}&action={action}");
        let r = request(c.port, "POST", &mark, Some(&analyst), Some(&form));
        assert_eq!(r.status, 403, "{action}: {r:?}");
    }
    let note = "押金属实 <i>见截图</i>";
    let form = format!("csrf={csrf}&action=confirmed&note={}", enc(note));
    let r = request(c.port, "POST", &mark, Some(&analyst), Some(&form));
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(
        r.header("location"),
        Some(format!("/leads/{lead}").as_str())
    );

    let supervisor = login(c.port, SUPERVISOR);
    let csrf = get(c.port, "/", &supervisor).csrf();
    let form = format!("csrf={csrf}&action=assign&to=li");
    let r = request(c.port, "POST", &mark, Some(&supervisor), Some(&form));
    assert_eq!(r.status, 303, "{r:?}");

    let shown = show(s.path(), lead);
    assert_eq!(shown["verdict"], "confirmed");
    assert_eq!(shown["assigned_to"], "li");
    let events: Vec<String> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {} {}", e["actor"], e["action"], e["to"], e["note"]))
        .collect();
    assert!(
        events.contains(&format!(r#""li" "verdict" "confirmed" "{note}""#)),
        "{events:?}"
    );
    assert!(
        events.contains(&r#""wang" "assign" "li" null"#.to_string()),
        "{events:?}"
    );

    // The timeline on the page shows the note as text.
    let page = get(c.port, &format!("/leads/{lead}"), &analyst);
    assert!(page.body.contains("押金属实 &lt;i&gt;见截图&lt;/i&gt;"));
    assert!(!page.body.contains("<i>见截图"));
}

#[test]
fn hostile_posting_text_is_shown_as_text() {
    let s = store();
    let c = serve(s.path(), &[]);
    let session = login(c.port, ANALYST);
    let queue = get(c.port, "/?source=evil", &session);
    let lead = get(c.port, &format!("/leads/{}", s.hostile), &session);
    for (what, page) in [("queue", &queue), ("lead", &lead)] {
        assert_eq!(page.status, 200, "{what}");
        let b = &page.body;
        assert!(!b.contains("<script"), "{what}: {b}");
        assert!(!b.contains("<img"), "{what}");
        assert!(!b.contains("href=\"javascript"), "{what}");
        assert!(
            b.contains("&lt;script&gt;alert(1)&lt;/script&gt;招聘"),
            "{what}: {b}"
        );
    }
    let b = &lead.body;
    assert!(b.contains("&lt;img src=x onerror=alert(1)&gt;"), "{b}");
    assert!(b.contains("&lt;b&gt;某公司&lt;/b&gt;"));
    assert!(b.contains("<code>javascript:alert(1)</code>"), "{b}");
    // Its evidence is marked where it was found.
    assert!(b.contains("<mark data-rule="), "{b}");
    assert!(b.contains("押金"));
    // Each finding beside the provisions its rule cites, from the rules the console read.
    let table = &b[b.find("per-finding").expect(b)..];
    assert!(table.contains("<td><mark>"), "{table}");
    assert!(table.contains("<ul class=\"law\"><li><b>"), "{table}");

    // An ordinary posting's address is a link that tells the site nothing.
    let plain = get(c.port, &format!("/leads/{}", s.lead), &session);
    assert!(
        plain.body.contains("rel=\"noreferrer noopener\""),
        "{}",
        plain.body
    );
}

#[test]
fn a_campaign_is_shown_as_text_and_only_a_supervisor_assigns_it_whole() {
    let s = store();
    let c = serve(s.path(), &[]);
    let listed = ok(
        xuncha(s.path(), &["campaigns", "list", "--format", "jsonl"])
            .output()
            .unwrap(),
    );
    let ring: serde_json::Value = listed
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|c| c["posting_ids"].to_string().contains("ring-a"))
        .expect(&listed);
    let id = ring["id"].as_i64().unwrap();
    let leads: Vec<String> = ring["lead_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let href = format!("/campaigns/{id}");

    let supervisor = login(c.port, SUPERVISOR);
    let list = get(c.port, "/campaigns", &supervisor);
    let page = get(c.port, &href, &supervisor);
    for (what, r) in [("list", &list), ("campaign", &page)] {
        assert_eq!(r.status, 200, "{what}");
        assert!(!r.body.contains("<script"), "{what}: {}", r.body);
        assert!(
            r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;招聘"),
            "{what}: {}",
            r.body
        );
    }
    assert!(
        list.body.contains(&format!("href=\"{href}\"")),
        "{}",
        list.body
    );
    assert!(page.body.contains("phone:13912345678"));
    assert!(
        page.body.contains("薇：一三九一二三四五六七八"),
        "{}",
        page.body
    );
    assert!(page.body.contains("ring-a") && page.body.contains("ring-b"));
    // A lead of the ring links to it.
    let lead = get(c.port, &format!("/leads/{}", leads[0]), &supervisor);
    assert!(
        lead.body.contains(&format!("href=\"{href}\"")),
        "{}",
        lead.body
    );
    assert_eq!(get(c.port, "/campaigns/999999", &supervisor).status, 404);

    let assign = format!("{href}/assign");
    let analyst = login(c.port, ANALYST);
    let csrf = get(c.port, "/campaigns", &analyst).csrf();
    let r = request(
        c.port,
        "POST",
        &assign,
        Some(&analyst),
        Some(&format!("csrf={csrf}&to=li")),
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(page.body.contains("Assign all"));
    assert!(!get(c.port, &href, &analyst).body.contains("Assign all"));
    let r = request(c.port, "POST", &assign, Some(&supervisor), Some("to=zhang"));
    assert_eq!(r.status, 403, "no token: {r:?}");
    for l in &leads {
        assert_eq!(show(s.path(), l)["assigned_to"], serde_json::Value::Null);
    }
    let csrf = get(c.port, "/campaigns", &supervisor).csrf();
    let r = request(
        c.port,
        "POST",
        &assign,
        Some(&supervisor),
        Some(&format!("csrf={csrf}&to=zhang&note={}", enc("一个团伙"))),
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(r.header("location"), Some(href.as_str()));
    for l in &leads {
        let shown = show(s.path(), l);
        assert_eq!(shown["assigned_to"], "zhang");
        let by = shown["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "assign")
            .unwrap()
            .clone();
        assert_eq!(by["actor"], "wang");
        assert_eq!(by["note"], format!("campaign {id}: 一个团伙"));
    }
}

#[test]
fn twenty_wrong_passwords_from_one_address_then_only_429s() {
    let s = store();
    let c = serve(s.path(), &[]);
    for i in 0..20 {
        let r = try_login(c.port, ANALYST.0, &format!("guess {i}"));
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let start = Instant::now();
    for i in 0..50 {
        let r = try_login(c.port, ANALYST.0, &format!("more {i}"));
        assert_eq!(r.status, 429, "attempt {}", 20 + i);
        assert!(r.header("retry-after").is_some());
    }
    // Refused before any password is hashed: fifty refusals take no hashing time.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // The right password too, from this address, until the budget refills.
    assert_eq!(try_login(c.port, ANALYST.0, ANALYST.1).status, 429);
}

#[test]
fn a_disabled_account_loses_its_session_and_cannot_log_in() {
    let s = store();
    let c = serve(s.path(), &[]);
    let session = login(c.port, LEAVER);
    assert_eq!(get(c.port, "/", &session).status, 200);
    let listed = ok(xuncha(s.path(), &["users", "list"]).output().unwrap());
    assert!(
        listed
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()[..3] == ["zhao", "analyst", "no"]),
        "{listed}"
    );
    ok(xuncha(s.path(), &["users", "disable", "zhao"])
        .output()
        .unwrap());
    assert_eq!(get(c.port, "/", &session).status, 303);
    assert_eq!(try_login(c.port, LEAVER.0, LEAVER.1).status, 401);
    let listed = ok(xuncha(s.path(), &["users", "list"]).output().unwrap());
    assert!(listed
        .lines()
        .any(|l| l.starts_with("zhao") && l.contains(" yes ")));
    // The password is never an argument.
    let as_arg = xuncha(
        s.path(),
        &["users", "add", "sun", "--role", "admin", "--password", "x"],
    )
    .output()
    .unwrap();
    assert!(!as_arg.status.success());
}

/// The hashes the lead page links to as stored pages.
fn evidence_links(page: &str, lead: &str) -> Vec<String> {
    let prefix = format!("/leads/{lead}/evidence/");
    page.match_indices(&prefix)
        .map(|(i, _)| page[i + prefix.len()..i + prefix.len() + 64].to_string())
        .collect()
}

#[test]
fn recheck_now_needs_its_token_and_keeps_the_page_as_inert_evidence() {
    let s = store();
    let c = serve(s.path(), &[]);
    let session = login(c.port, ANALYST);
    let lead_path = format!("/leads/{}", s.fetched);
    let csrf = get(c.port, &lead_path, &session).csrf();
    let recheck = format!("{lead_path}/recheck");
    for form in ["".to_string(), format!("csrf={}", "0".repeat(64))] {
        let r = request(c.port, "POST", &recheck, Some(&session), Some(&form));
        assert_eq!(r.status, 403, "{form}: {r:?}");
    }
    let before = show(s.path(), &s.fetched)["rechecks"]
        .as_array()
        .unwrap()
        .len();

    let r = request(
        c.port,
        "POST",
        &recheck,
        Some(&session),
        Some(&format!("csrf={csrf}")),
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(
        r.header("location"),
        Some(format!("{lead_path}#rechecks").as_str())
    );
    let shown = show(s.path(), &s.fetched);
    let rechecks = shown["rechecks"].as_array().unwrap();
    assert_eq!(rechecks.len(), before + 1, "{shown}");
    assert_eq!(rechecks.last().unwrap()["outcome"], "online", "{shown}");
    let asked = shown["events"].as_array().unwrap().iter().any(|e| {
        e["actor"] == "li"
            && e["action"] == "note"
            && e["note"].as_str().unwrap().contains("recheck now: online")
    });
    assert!(asked, "who asked is in the timeline: {shown}");

    let page = get(c.port, &lead_path, &session);
    assert!(
        page.body.contains("<td class=\"outcome\">online"),
        "{}",
        page.body
    );
    let links = evidence_links(&page.body, &s.fetched);
    let sha = links.last().expect("a link to the page fetched").clone();
    let ev = get(c.port, &format!("{lead_path}/evidence/{sha}"), &session);
    assert_eq!(ev.status, 200, "{ev:?}");
    assert_eq!(ev.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(ev.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(ev.header("content-disposition"), Some("inline"));
    let csp = ev.header("content-security-policy").unwrap();
    assert!(csp.split(';').any(|d| d.trim() == "sandbox"), "{csp}");
    assert!(ev.body.contains("<script>window.pwned = 1;"), "{}", ev.body);
    assert_eq!(ev.body, serve::HOSTILE_PAGE);
}

#[test]
fn the_evidence_page_serves_only_the_leads_own_pages_from_inside_the_store() {
    let s = store();
    let c = serve(s.path(), &[]);
    let session = login(c.port, ANALYST);
    let base = format!("/leads/{}/evidence", s.hostile);
    for path in [
        format!("{base}/..%2F..%2F..%2F..%2Fetc%2Fpasswd"),
        format!("{base}/%2Fetc%2Fpasswd"),
        format!("{base}/{}", "AB".repeat(32)),
        format!("{base}/../../../../etc/passwd"),
        format!("{base}/{}%2F..%2F..", "ab".repeat(31)),
    ] {
        let r = get(c.port, &path, &session);
        assert!(matches!(r.status, 400 | 404), "{path}: {r:?}");
        assert!(!r.body.contains("root:"), "{path}");
    }
    // A page the lead does not name is not served, whatever the store holds.
    let r = get(c.port, &format!("{base}/{}", "ab".repeat(32)), &session);
    assert_eq!(r.status, 404);

    // A link planted in the store under the name of the lead's capture points out of it.
    let sha = show(s.path(), &s.hostile)["lead"]["posting"]["content_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let shelf = s.path().join("data/evidence").join(&sha[..2]);
    std::fs::create_dir_all(&shelf).unwrap();
    let _ = std::os::unix::fs::symlink("/etc/passwd", shelf.join(&sha));
    let r = get(c.port, &format!("{base}/{sha}"), &session);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(!r.body.contains("root:"));
    let page = get(c.port, &format!("/leads/{}", s.hostile), &session);
    assert!(evidence_links(&page.body, &s.hostile).is_empty());
}

/// A settings file whose `[console]` trusts `proxies` to name the user in X-Remote-User.
fn proxy_settings(dir: &Path, proxies: &str) -> String {
    let path = dir.join(format!("console-{}.toml", proxies.len()));
    std::fs::write(
        &path,
        format!(
            "[console]\ntrusted_proxy_header = \"X-Remote-User\"\ntrusted_proxies = [{proxies}]\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn a_proxy_header_is_believed_from_a_trusted_proxy_only() {
    let s = store();
    let settings = tempfile::tempdir().unwrap();
    let trusted = proxy_settings(settings.path(), "\"127.0.0.1/32\"");
    let c = serve(s.path(), &["--config", &trusted]);
    let as_li = [("X-Remote-User", "li")];
    let r = request_with(c.port, "GET", "/", &as_li, None);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("li (analyst)"), "{}", r.body);
    let cookie = r.cookie("xuncha_session").expect("a session for li");
    // The session is used again while the proxy names the same user.
    let again = request_with(
        c.port,
        "GET",
        "/dashboard",
        &[("X-Remote-User", "li"), ("Cookie", &cookie)],
        None,
    );
    assert_eq!(again.status, 200);
    assert!(again.cookie("xuncha_session").is_none());
    // A form still needs its token.
    let mark = format!("/leads/{}/mark", s.lead);
    let r = request_with(c.port, "POST", &mark, &as_li, Some("action=confirmed"));
    assert_eq!(r.status, 403);
    // The role is the store's; a name without an enabled account gets nothing.
    let wang = request_with(c.port, "GET", "/", &[("X-Remote-User", "wang")], None);
    assert!(wang.body.contains("wang (supervisor)"), "{}", wang.body);
    for nobody in ["nobody", "zhao-not-here"] {
        let r = request_with(c.port, "GET", "/", &[("X-Remote-User", nobody)], None);
        assert_eq!(r.status, 403, "{nobody}: {r:?}");
        assert!(r.cookie("xuncha_session").is_none());
    }
    drop(c);

    // From an address that is not the proxy's, the header is anyone's and is ignored.
    let elsewhere = proxy_settings(settings.path(), "\"10.255.255.1/32\", \"192.0.2.0/24\"");
    let c = serve(s.path(), &["--config", &elsewhere]);
    let r = request_with(c.port, "GET", "/", &as_li, None);
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(r.header("location"), Some("/login"));
    assert!(r.cookie("xuncha_session").is_none());
    // Password logins work as ever.
    let session = login(c.port, ANALYST);
    assert_eq!(get(c.port, "/", &session).status, 200);
}

#[test]
fn the_queue_takes_every_filter_and_sort_and_refuses_bad_ones_by_name() {
    let s = store();
    let c = serve(s.path(), &[]);
    let session = login(c.port, ANALYST);
    let all = get(c.port, "/", &session);
    assert_eq!(all.status, 200);
    let total = |b: &str| -> u64 {
        let at = b.find("<b class=\"total\">").expect(b) + "<b class=\"total\">".len();
        b[at..].split('<').next().unwrap().parse().unwrap()
    };
    let n = total(&all.body);
    assert!(n >= 3, "{n}");
    for (query, expect) in [
        ("sort=oldest", n),
        ("sort=severity&severity=illegal", 0),
        ("since=2000-01-01&until=2000-01-02", 0),
        ("since=2000-01-01T08:00:00%2B08:00", n),
        ("source=hostile", 1),
        ("region=440300", 0),
        ("status=new&verdict=&assignee=&publisher=&rule=", 0),
    ] {
        let r = get(c.port, &format!("/?{query}"), &session);
        assert_eq!(r.status, 200, "{query}: {r:?}");
        if expect > 0 {
            assert_eq!(total(&r.body), expect, "{query}");
        }
    }
    // A filter keeps its value in the form, the first page link keeps the filters.
    let r = get(
        c.port,
        "/?source=hostile&sort=oldest&after=2000-01-01T00:00:00Z,x",
        &session,
    );
    assert!(r.body.contains("value=\"hostile\""), "{}", r.body);
    assert!(
        r.body
            .contains("href=\"/?source=hostile&amp;sort=oldest\" rel=\"first\""),
        "{}",
        r.body
    );
    for (query, names) in [
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("sort=random", "random"),
        ("region=atlantis", "atlantis"),
        ("sort=severity&after=2026-01-01T00:00:00Z,abc", "severity"),
        ("category=fee.bribe", "fee.bribe"),
    ] {
        let r = get(c.port, &format!("/?{query}"), &session);
        assert_eq!(r.status, 400, "{query}: {r:?}");
        assert!(r.body.contains(names), "{query}: {}", r.body);
    }
}

#[test]
fn the_dashboard_counts_today_with_the_reports_chart() {
    let s = store();
    let c = serve(s.path(), &[]);
    let session = login(c.port, ANALYST);
    let r = get(c.port, "/dashboard", &session);
    assert_eq!(r.status, 200, "{r:?}");
    // The store was filled today: the summary table and the chart are drawn.
    assert!(r.body.contains("<svg class=\"chart\""), "{}", r.body);
    assert!(r.body.contains("收取押金"), "{}", r.body);
    assert!(r.body.contains("<table class=\"counts\">"));
    assert!(!r.body.contains("<script"));
}

#[test]
fn the_rules_page_shows_a_demotion_that_only_an_admin_lifts_with_the_form_token() {
    const RULE: &str = "DISC-AGE-001";
    let dir = filed_examples();
    let d = dir.path();
    add_user(d, ANALYST.0, ANALYST.1, "analyst");
    add_user(d, ADMIN.0, ADMIN.1, "admin");
    let list = ok(xuncha(d, &["leads", "list", "--rule", RULE])
        .output()
        .unwrap());
    for line in list.lines().skip(1).take(3) {
        let id = line.split_whitespace().next().unwrap();
        ok(
            xuncha(d, &["leads", "mark", id, "false_positive", "--as", "li"])
                .env("XUNCHA_DEMOTION__MIN_VERDICTS", "3")
                .env("XUNCHA_DEMOTION__FLOOR", "0.9")
                .output()
                .unwrap(),
        );
    }
    let c = serve(d, &[]);
    let page = format!("/rules/{RULE}");
    let lift = format!("/rules/{RULE}/lift");

    let analyst = login(c.port, ANALYST);
    let rules = get(c.port, "/rules", &analyst);
    assert_eq!(rules.status, 200);
    let row = rules
        .body
        .split("<tr>")
        .find(|r| r.contains(&format!(">{RULE}<")))
        .expect(&rules.body);
    assert!(row.contains("demoted"), "{row}");
    let shown = get(c.port, &page, &analyst);
    assert!(shown.body.contains("Only an admin lifts"), "{}", shown.body);
    assert!(!shown.body.contains(&format!("action=\"{lift}\"")));
    let csrf = shown.csrf();
    let r = request(
        c.port,
        "POST",
        &lift,
        Some(&analyst),
        Some(&format!("csrf={csrf}&note=ok")),
    );
    assert_eq!(r.status, 403, "an analyst: {r:?}");

    let admin = login(c.port, ADMIN);
    let shown = get(c.port, &page, &admin);
    assert!(
        shown.body.contains(&format!("action=\"{lift}\"")),
        "{}",
        shown.body
    );
    let csrf = shown.csrf();
    let r = request(c.port, "POST", &lift, Some(&admin), Some("note=no+token"));
    assert_eq!(r.status, 403, "no token: {r:?}");
    let r = request(
        c.port,
        "POST",
        &lift,
        Some(&admin),
        Some(&format!("csrf={csrf}&note=+")),
    );
    assert_eq!(r.status, 400, "no reason: {r:?}");
    let still = ok(xuncha(d, &["rules", "stats", "--format", "jsonl"])
        .output()
        .unwrap());
    assert!(
        still.contains(&format!(r#""rule_id":"{RULE}""#)) && still.contains(r#""demoted":true"#)
    );

    let note = "规则已收窄 <b>见变更</b>";
    let form = format!("csrf={csrf}&note={}", enc(note));
    let r = request(c.port, "POST", &lift, Some(&admin), Some(&form));
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(r.header("location"), Some(page.as_str()));
    let r = request(c.port, "POST", &lift, Some(&admin), Some(&form));
    assert_eq!(r.status, 409, "lifted once: {r:?}");

    let shown = get(c.port, &page, &admin);
    assert!(
        shown.body.contains("规则已收窄 &lt;b&gt;见变更&lt;/b&gt;"),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains("<b>见变更"));
    let history = ok(xuncha(
        d,
        &["rules", "demotion", "history", RULE, "--format", "jsonl"],
    )
    .output()
    .unwrap());
    let last: serde_json::Value = serde_json::from_str(history.lines().next().unwrap()).unwrap();
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("lifted"), Some(ADMIN.0))
    );
    assert_eq!(last["note"], note);
}
