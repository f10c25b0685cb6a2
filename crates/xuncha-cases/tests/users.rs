//! Console accounts and sessions, the same suite on both databases (as tests/store.rs).

mod support {
    pub mod postgres;
    pub mod stores;
}

use std::time::Duration;

use support::stores::on_both;
use time::OffsetDateTime;
use xuncha_cases::Role;

const PW: &str = "correct horse battery";

#[test]
fn accounts_are_added_listed_verified_and_disabled() {
    on_both(|s| {
        let q = &s.q;
        q.add_user("li", Role::Analyst, PW).unwrap();
        q.add_user("wang", Role::Supervisor, PW).unwrap();
        let again = q.add_user("li", Role::Admin, PW).unwrap_err();
        assert!(again.to_string().contains("already"), "{again}");
        assert!(q.add_user("zhao", Role::Analyst, "short").is_err());
        assert!(q.add_user(" ", Role::Analyst, PW).is_err());
        assert!(q.add_user("a\u{1b}b", Role::Analyst, PW).is_err());

        let users = q.users().unwrap();
        let names: Vec<(&str, Role, bool)> = users
            .iter()
            .map(|u| (u.name.as_str(), u.role, u.disabled))
            .collect();
        assert_eq!(
            names,
            [
                ("li", Role::Analyst, false),
                ("wang", Role::Supervisor, false)
            ]
        );

        // Stored as an argon2id PHC string, never the password.
        let hashes = s.column("SELECT password_hash FROM users");
        assert!(
            hashes.iter().all(|h| h.starts_with("$argon2id$")),
            "{hashes:?}"
        );
        assert!(hashes.iter().all(|h| !h.contains(PW)));
        assert_ne!(hashes[0], hashes[1], "each hash has its own salt");

        assert_eq!(
            q.verify_password("li", PW).unwrap().unwrap().role,
            Role::Analyst
        );
        assert!(q
            .verify_password("li", "wrong password!")
            .unwrap()
            .is_none());
        assert!(q.verify_password("nobody", PW).unwrap().is_none());

        assert!(q.disable_user("li").unwrap());
        assert!(!q.disable_user("nobody").unwrap());
        assert!(q.verify_password("li", PW).unwrap().is_none());
        assert!(q.users().unwrap()[0].disabled);
    });
}

#[test]
fn sessions_are_kept_by_hash_expire_and_end() {
    on_both(|s| {
        let q = &s.q;
        q.add_user("li", Role::Analyst, PW).unwrap();
        q.add_user("wang", Role::Admin, PW).unwrap();
        let now = OffsetDateTime::now_utc();
        let hours = |h: u64| Duration::from_secs(h * 3600);

        let (token, made) = q.create_session("li", hours(8), now).unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(made.role, Role::Analyst);
        let found = q.session(&token, now).unwrap().unwrap();
        assert_eq!(found, made);
        assert_eq!(found.csrf.len(), 64);
        assert_ne!(found.csrf, token);

        // Only a hash of the token is in the database.
        let stored = s.column("SELECT token_hash FROM sessions");
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0], token);
        assert!(q.session(&stored[0], now).unwrap().is_none());
        assert!(q.session("", now).unwrap().is_none());

        // Expired eight hours on.
        assert!(q.session(&token, now + hours(8)).unwrap().is_none());
        assert!(q.session(&token, now + hours(7)).unwrap().is_some());

        // Logging out ends it; another session of the same user is not touched.
        let (other, _) = q.create_session("li", hours(8), now).unwrap();
        q.delete_session(&token).unwrap();
        assert!(q.session(&token, now).unwrap().is_none());
        assert!(q.session(&other, now).unwrap().is_some());

        // Disabling the account ends its sessions; nobody opens one for it again.
        let (admin, _) = q.create_session("wang", hours(8), now).unwrap();
        q.disable_user("li").unwrap();
        assert!(q.session(&other, now).unwrap().is_none());
        assert!(q.create_session("li", hours(8), now).is_err());
        assert!(q.session(&admin, now).unwrap().is_some());

        // Expired sessions are cleared when the next one is made.
        q.create_session("wang", hours(8), now + hours(9)).unwrap();
        assert_eq!(s.column("SELECT name FROM sessions"), ["wang"]);
    });
}

#[test]
fn a_role_outside_the_three_is_refused_by_the_database() {
    on_both(|s| {
        let bad = "INSERT INTO users (name, role, password_hash, disabled, created_at) \
                   VALUES ('x', 'root', 'h', 0, 't') RETURNING name";
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.column(bad)));
        assert!(refused.is_err(), "{}: a role `root` was stored", s.name);
    });
}
