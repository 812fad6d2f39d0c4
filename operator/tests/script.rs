//! The onboarding script: argument names per RouterOS version family, the firewall, service and
//! user restrictions, and quoting that hostile values cannot escape.

mod common;

use common::{AGENT_SETTINGS, Tok, env_of, lines, prop, tokenize};
use hotspot_core::RouterKey;
use hotspotctl::rsc::{
    AgentEnv, ContainerNet, Family, RosVersion, ScriptParams, Secret, default_image_file, quote, render,
};

fn params(version: &str, name: &str) -> ScriptParams {
    ScriptParams {
        version: version.parse().expect("test version parses"),
        router_id: "cafe-01".parse().expect("test id parses"),
        router_name: name.to_string(),
        net: ContainerNet::default(),
        veth: "veth-hotspot".into(),
        bridge: "containers".into(),
        api_port: 8728,
        api_user: "hotspot-agent".into(),
        image_file: "hotspot-agent-0.1.0-arm64.docker.tar".into(),
        root_dir: "disk1/hotspot-agent".into(),
        data_dir: "disk1/hotspot-agent-data".into(),
        hotspot_profile: "hsprof1".into(),
        html_directory: "hotspot-html".into(),
        hotspot_server: "all".into(),
        container_dns: None,
        ntp_servers: hotspotctl::rsc::DEFAULT_NTP_SERVERS.into(),
        env: AgentEnv {
            router_key: RouterKey::from_bytes([7; 32]),
            routeros_password: Secret("Pw0rdPw0rdPw0rdPw0rdPw0rdPw0rd12".into()),
            queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/router-cafe-01.fifo".into(),
            events_queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/hotspot-events".into(),
            cloud_api_url: "https://abc123.execute-api.eu-west-1.amazonaws.com".into(),
            region: "eu-west-1".into(),
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: Secret("s3cr3t/with+chars$and\"quotes".into()),
        },
    }
}

/// The one line starting with these words.
fn line_starting<'a>(ls: &'a [Vec<Tok>], words: &[&str]) -> &'a [Tok] {
    let found: Vec<&Vec<Tok>> = ls
        .iter()
        .filter(|l| words.iter().enumerate().all(|(i, w)| l.get(i) == Some(&Tok::Word((*w).to_string()))))
        .collect();
    assert_eq!(found.len(), 1, "exactly one line starting with {words:?}");
    found[0]
}

#[test]
fn versions_map_to_families() {
    for (v, fam) in [
        ("7.4", Family::UpTo719),
        ("7.16.2", Family::UpTo719),
        ("7.19", Family::UpTo719),
        ("7.19.6", Family::UpTo719),
        ("7.20", Family::V720),
        ("7.20.2", Family::V720),
        ("7.21", Family::From721),
        ("7.21beta3", Family::From721),
        ("7.22.1", Family::From721),
    ] {
        assert_eq!(v.parse::<RosVersion>().map(RosVersion::family), Ok(fam), "{v}");
    }
    for bad in ["", "7", "6.49.10", "8.1", "7.3", "x.y", "7.x"] {
        assert!(bad.parse::<RosVersion>().is_err(), "{bad:?} must be refused");
    }
}

/// Each family uses exactly its documented property names and none of the others'.
/// The default image is the archive layout the version reads, named as build-image.sh names it.
#[test]
fn default_image_file_follows_the_version_family() {
    let v = |s: &str| s.parse::<RosVersion>().expect("test version parses");
    assert_eq!(default_image_file(v("7.19"), "arm64", "0.1.0"), "hotspot-agent-0.1.0-arm64.docker.tar");
    assert_eq!(default_image_file(v("7.20"), "arm", "0.1.0"), "hotspot-agent-0.1.0-arm.docker.tar");
    assert_eq!(default_image_file(v("7.21"), "arm64", "0.1.0"), "hotspot-agent-0.1.0-arm64.oci.tar");
    assert_eq!(default_image_file(v("7.22"), "x86_64", "0.2.0"), "hotspot-agent-0.2.0-x86_64.oci.tar");
}

#[test]
fn container_properties_follow_the_version_family() {
    struct Case {
        version: &'static str,
        envs_add: &'static str,
        container_env: &'static str,
        mounts_add: &'static str,
        container_mounts: &'static str,
    }
    let cases = [
        Case {
            version: "7.19",
            envs_add: "name",
            container_env: "envlist",
            mounts_add: "name",
            container_mounts: "mounts",
        },
        Case {
            version: "7.20",
            envs_add: "list",
            container_env: "envlists",
            mounts_add: "name",
            container_mounts: "mounts",
        },
        Case {
            version: "7.21",
            envs_add: "list",
            container_env: "envlists",
            mounts_add: "list",
            container_mounts: "mountlists",
        },
    ];
    for c in cases {
        let s = render(&params(c.version, "Cafe Westlands"));
        let other = |a: &str, b: &'static str| if a == b { "" } else { b };
        let other_envs_add = other(c.envs_add, "name").to_string() + other(c.envs_add, "list");
        let other_env = other(c.container_env, "envlist").to_string() + other(c.container_env, "envlists");
        let other_mounts_add = other(c.mounts_add, "name").to_string() + other(c.mounts_add, "list");
        let other_mounts = other(c.container_mounts, "mounts").to_string() + other(c.container_mounts, "mountlists");

        let envs_lines = s.lines().filter(|l| l.starts_with("/container/envs add ")).count();
        let good_envs = format!("/container/envs add {}=\"hotspot-agent-cafe-01\" key=", c.envs_add);
        assert_eq!(s.matches(&good_envs).count(), envs_lines, "{}: every env line uses {}=", c.version, c.envs_add);
        assert!(envs_lines >= AGENT_SETTINGS.len(), "{}", c.version);
        assert!(!s.contains(&format!("/container/envs add {other_envs_add}=")), "{}", c.version);

        let good_mount = format!("/container/mounts add {}=\"hotspot-agent-cafe-01-data\" ", c.mounts_add);
        assert_eq!(s.matches(&good_mount).count(), 1, "{}: {s}", c.version);
        assert!(!s.contains(&format!("/container/mounts add {other_mounts_add}=")), "{}", c.version);

        let ls = lines(&s).expect("script tokenizes");
        let add = line_starting(&ls, &["/container/add"]);
        assert_eq!(prop(add, c.container_env).as_deref(), Some("hotspot-agent-cafe-01"), "{}", c.version);
        assert_eq!(prop(add, c.container_mounts).as_deref(), Some("hotspot-agent-cafe-01-data"), "{}", c.version);
        assert_eq!(prop(add, &other_env), None, "{}: no {other_env}=", c.version);
        assert_eq!(prop(add, &other_mounts), None, "{}: no {other_mounts}=", c.version);
        assert!(!s.contains(&format!(" {other_env}=")) && !s.contains(&format!(" {other_mounts}=")), "{}", c.version);

        // The rest of the container line does not depend on the version.
        assert_eq!(prop(add, "file").as_deref(), Some("hotspot-agent-0.1.0-arm64.docker.tar"));
        assert_eq!(prop(add, "interface").as_deref(), Some("veth-hotspot"));
        assert_eq!(prop(add, "root-dir").as_deref(), Some("disk1/hotspot-agent"));
        assert_eq!(prop(add, "start-on-boot").as_deref(), Some("yes"));
        assert_eq!(prop(add, "logging").as_deref(), Some("yes"));
        let mount = line_starting(&ls, &["/container/mounts", "add"]);
        assert_eq!(prop(mount, "src").as_deref(), Some("disk1/hotspot-agent-data"));
        assert_eq!(prop(mount, "dst").as_deref(), Some("/data"));
    }
}

#[test]
fn network_firewall_service_and_user_are_restricted() {
    let s = render(&params("7.20", "Cafe Westlands"));
    let ls = lines(&s).expect("script tokenizes");

    let veth = line_starting(&ls, &["/interface", "veth", "add"]);
    assert_eq!(prop(veth, "name").as_deref(), Some("veth-hotspot"));
    assert_eq!(prop(veth, "address").as_deref(), Some("172.17.0.2/24"));
    assert_eq!(prop(veth, "gateway").as_deref(), Some("172.17.0.1"));
    let bridge = line_starting(&ls, &["/interface", "bridge", "add"]);
    assert_eq!(prop(bridge, "name").as_deref(), Some("containers"));
    let addr = line_starting(&ls, &["/ip", "address", "add"]);
    assert_eq!(prop(addr, "address").as_deref(), Some("172.17.0.1/24"));
    assert_eq!(prop(addr, "interface").as_deref(), Some("containers"));
    let port = line_starting(&ls, &["/interface", "bridge", "port", "add"]);
    assert_eq!(
        (prop(port, "bridge").as_deref(), prop(port, "interface").as_deref()),
        (Some("containers"), Some("veth-hotspot"))
    );
    let nats: Vec<&Vec<Tok>> = ls
        .iter()
        .filter(|l| l.starts_with(&[Tok::Word("/ip".into()), Tok::Word("firewall".into()), Tok::Word("nat".into())]))
        .collect();
    let masq: Vec<_> = nats.iter().filter(|l| prop(l, "action").as_deref() == Some("masquerade")).collect();
    assert_eq!(masq.len(), 1);
    assert_eq!(prop(masq[0], "chain").as_deref(), Some("srcnat"));
    assert_eq!(prop(masq[0], "src-address").as_deref(), Some("172.17.0.0/24"));

    // The input accept: placed before the first static input rule (where the default firewall's
    // drop is), or appended to an empty chain. Both adds are the same rule.
    let accepts: Vec<&Vec<Tok>> = ls
        .iter()
        .filter(|l| l.starts_with(&[Tok::Word("/ip".into()), Tok::Word("firewall".into()), Tok::Word("filter".into())]))
        .filter(|l| prop(l, "dst-port").as_deref() == Some("8728"))
        .collect();
    assert_eq!(accepts.len(), 2, "{accepts:?}");
    for a in &accepts {
        assert_eq!(prop(a, "chain").as_deref(), Some("input"));
        assert_eq!(prop(a, "action").as_deref(), Some("accept"));
        assert_eq!(prop(a, "protocol").as_deref(), Some("tcp"));
        assert_eq!(prop(a, "src-address").as_deref(), Some("172.17.0.2"));
        assert_eq!(prop(a, "dst-address").as_deref(), Some("172.17.0.1"));
        assert_eq!(prop(a, "dst-port").as_deref(), Some("8728"));
    }
    assert!(s.contains(":local hsFirst [/ip firewall filter find chain=input dynamic=no]"), "{s}");
    assert!(s.contains(":if ([:len $hsFirst] > 0) do={"), "{s}");
    let placed = s.lines().filter(|l| l.contains("chain=input action=accept")).collect::<Vec<_>>();
    assert!(placed[0].trim_end().ends_with("place-before=[:pick $hsFirst 0]"), "{}", placed[0]);
    assert!(!placed[1].contains("place-before"), "the else branch appends: {}", placed[1]);

    let service = line_starting(&ls, &["/ip", "service", "set", "api"]);
    assert_eq!(prop(service, "address").as_deref(), Some("172.17.0.2/32"));
    assert!(s.contains("/ip service set api address=172.17.0.2/32"), "{s}");

    let group = line_starting(&ls, &["/user", "group", "add"]);
    assert_eq!(prop(group, "name").as_deref(), Some("hotspot-agent"));
    let policy = prop(group, "policy").expect("group has a policy");
    let mut granted: Vec<&str> = policy.split(',').collect();
    granted.sort_unstable();
    assert_eq!(granted, ["api", "read", "write"], "only api,read,write");
    let user = line_starting(&ls, &["/user", "add"]);
    assert_eq!(prop(user, "group").as_deref(), Some("hotspot-agent"));
    assert_eq!(prop(user, "address").as_deref(), Some("172.17.0.2/32"));
    let env = env_of(&s).expect("env parses");
    assert_eq!(prop(user, "password").as_ref(), env.get("ROUTEROS_PASSWORD"), "the agent gets the user's password");
    assert_eq!(env.get("ROUTEROS_USER").map(String::as_str), Some("hotspot-agent"));
    assert_eq!(env.get("ROUTEROS_ADDR").map(String::as_str), Some("172.17.0.1:8728"), "the veth gateway");

    let wg = line_starting(&ls, &["/ip", "hotspot", "walled-garden", "ip", "add"]);
    assert_eq!(prop(wg, "dst-address").as_deref(), Some("172.17.0.2"));
    assert_eq!(prop(wg, "action").as_deref(), Some("accept"));
    assert!(s.contains(":local hsHtml \"hotspot-html\""), "{s}");

    for k in AGENT_SETTINGS {
        assert!(env.get(*k).is_some_and(|v| !v.is_empty()), "{k} is set");
    }
    assert_eq!(env.get("HOTSPOT_ROUTER_KEY"), Some(&RouterKey::from_bytes([7; 32]).to_hex()));
    assert_eq!(env.get("AWS_SECRET_ACCESS_KEY").map(String::as_str), Some("s3cr3t/with+chars$and\"quotes"));
    assert_eq!(env.get("STATE_DIR").map(String::as_str), Some("/data"));
    // Every object but env entries and the mount (found by their list name) is tagged, so it can
    // be found and removed.
    let env_or_mount =
        |l: &Vec<Tok>| matches!(l.first(), Some(Tok::Word(w)) if w == "/container/envs" || w == "/container/mounts");
    let adds = ls.iter().filter(|l| l.iter().take(5).any(|t| *t == Tok::Word("add".into())) && !env_or_mount(l));
    let mut tagged = 0;
    for l in adds {
        tagged += 1;
        assert_eq!(prop(l, "comment").as_deref(), Some("hotspot-agent:cafe-01"), "{l:?}");
    }
    assert_eq!(
        tagged, 16,
        "veth, bridge, address, port, nat, 2 × nat exemption, 2 × filter, 4 × DNS filter, group, user, walled garden"
    );
    let container = line_starting(&ls, &["/container/add"]);
    assert_eq!(prop(container, "comment").as_deref(), Some("hotspot-agent:cafe-01"));
}

/// `quote` round-trips through RouterOS's string syntax for every byte, and its output is one
/// token on one line.
#[test]
fn quoting_round_trips_every_character() {
    let mut samples: Vec<String> = (0u32..=0x2ff).filter_map(char::from_u32).map(|c| format!("a{c}b")).collect();
    samples.extend(
        [
            "",
            "\\",
            "\"",
            "$",
            "$x",
            "$(x)",
            "$[:put 1]",
            "\\\"",
            "\"\n/system reboot\n",
            "\u{1F600}",
            "a\u{0}b",
            "?",
            "\\$",
        ]
        .map(str::to_string),
    );
    for v in samples {
        let q = quote(&v);
        assert!(q.bytes().all(|b| (0x20..0x7f).contains(&b)), "printable ASCII only: {q:?}");
        assert_eq!(tokenize(&q), Ok(vec![Tok::Str(v.clone())]), "{v:?} -> {q}");
    }
}

/// A hostile router name stays inside its string: the script's structure is the same as with
/// a plain name, and the name comes back intact.
#[test]
fn hostile_values_cannot_break_out() {
    let hostile =
        "Cafe \"West\" $evil $(:put x) [/system reset-configuration] \\\" \\\n/user add name=x group=full\r\n?\t\u{e9}";
    let plain = render(&params("7.21", "Cafe Westlands"));
    let mut p = params("7.21", hostile);
    p.hotspot_profile = "hs\"prof\n/ip service enable telnet".into();
    p.image_file = "img$(x).tar".into();
    let evil = render(&p);

    let shape = |s: &str| -> Vec<Tok> {
        tokenize(s)
            .expect("tokenizes")
            .into_iter()
            .map(|t| if let Tok::Str(_) = t { Tok::Str(String::new()) } else { t })
            .collect()
    };
    assert_eq!(shape(&evil), shape(&plain), "same commands, same tokens, only string contents differ");
    assert_eq!(evil.lines().count(), plain.lines().count());

    let strings: Vec<String> = tokenize(&evil)
        .expect("tokenizes")
        .into_iter()
        .filter_map(|t| if let Tok::Str(s) = t { Some(s) } else { None })
        .collect();
    assert!(strings.iter().any(|s| s == &format!("hotspot-agent: onboarding router cafe-01 ({hostile})")));
    assert!(strings.iter().any(|s| s == "hs\"prof\n/ip service enable telnet"));
    assert!(strings.iter().any(|s| s == "img$(x).tar"));
    // Literally: the quotes and dollars are escaped, the line break is \n.
    assert!(
        evil.contains(r#"Cafe \"West\" \$evil \$(:put x) [/system reset-configuration] \\\" \\\n/user add"#),
        "{evil}"
    );
    for l in evil.lines().filter(|l| l.trim_start().starts_with('#')) {
        assert!(!l.contains("evil") && !l.contains("telnet"), "no values in comments: {l}");
    }
}

#[test]
fn bad_networks_are_refused() {
    use std::net::Ipv4Addr;
    let a = |s: &str| s.parse::<Ipv4Addr>().expect("test address");
    assert!(ContainerNet::new(a("172.17.0.2"), a("172.17.0.1"), 24).is_ok());
    assert!(ContainerNet::new(a("172.17.0.2"), a("172.17.1.1"), 24).is_err(), "different subnets");
    assert!(ContainerNet::new(a("172.17.0.2"), a("172.17.0.2"), 24).is_err(), "same address");
    assert!(ContainerNet::new(a("172.17.0.255"), a("172.17.0.1"), 24).is_err(), "broadcast");
    assert!(ContainerNet::new(a("172.17.0.2"), a("172.17.0.1"), 31).is_err(), "prefix");
    let n = ContainerNet::new(a("10.9.8.130"), a("10.9.8.129"), 25).expect("valid");
    assert_eq!(n.subnet(), "10.9.8.128/25");
}

/// The hotspot's own masquerade must not hide guests from the portal: a srcnat accept to the
/// container, before every other (static) srcnat rule, or alone in an empty chain.
#[test]
fn guest_traffic_to_the_container_is_exempt_from_source_nat_first() {
    let s = render(&params("7.20", "Cafe Westlands"));
    let ls = lines(&s).expect("script tokenizes");
    let exempt: Vec<&Vec<Tok>> = ls
        .iter()
        .filter(|l| l.starts_with(&[Tok::Word("/ip".into()), Tok::Word("firewall".into()), Tok::Word("nat".into())]))
        .filter(|l| prop(l, "action").as_deref() == Some("accept"))
        .collect();
    assert_eq!(exempt.len(), 2, "placed first, or appended to an empty chain: {exempt:?}");
    for e in &exempt {
        assert_eq!(prop(e, "chain").as_deref(), Some("srcnat"));
        assert_eq!(prop(e, "dst-address").as_deref(), Some("172.17.0.2"));
        assert_eq!(prop(e, "src-address"), None, "every guest, whatever the hotspot subnet");
    }
    assert!(s.contains(":local hsNat [/ip firewall nat find chain=srcnat dynamic=no]"), "{s}");
    let placed: Vec<&str> = s.lines().filter(|l| l.contains("chain=srcnat action=accept")).collect();
    assert!(placed[0].trim_end().ends_with("place-before=[:pick $hsNat 0]"), "{}", placed[0]);
    // After the container's own masquerade in the script, so it lands in front of that too.
    let masq_at = s.find("action=masquerade").unwrap();
    assert!(s.find("chain=srcnat action=accept").unwrap() > masq_at);
}

/// The container asks the router for DNS unless told otherwise: the script then also accepts
/// that on input. With --container-dns it asks those servers (forwarded): no input rule.
#[test]
fn container_dns_and_the_firewall_agree() {
    let dns_accepts = |s: &str| s.lines().filter(|l| l.contains("dst-port=53") && l.contains("chain=input")).count();
    let s = render(&params("7.20", "Cafe"));
    let ls = lines(&s).unwrap();
    let add = line_starting(&ls, &["/container/add"]);
    assert_eq!(prop(add, "dns").as_deref(), Some("172.17.0.1"), "the gateway");
    assert_eq!(dns_accepts(&s), 4, "udp and tcp, each placed first or appended");
    assert!(s.contains("/ip dns set allow-remote-requests=yes"));
    let mut p = params("7.20", "Cafe");
    p.container_dns = Some("1.1.1.1,8.8.8.8".into());
    let s = render(&p);
    let ls = lines(&s).unwrap();
    assert_eq!(prop(line_starting(&ls, &["/container/add"]), "dns").as_deref(), Some("1.1.1.1,8.8.8.8"));
    assert_eq!(dns_accepts(&s), 0);
    assert!(!s.contains("allow-remote-requests"));
}

/// The router's clock (shared by the container) is set by NTP from boot.
#[test]
fn the_clock_is_set_by_ntp() {
    let s = render(&params("7.20", "Cafe"));
    let ls = lines(&s).unwrap();
    let ntp = line_starting(&ls, &["/system", "ntp", "client", "set"]);
    assert_eq!(prop(ntp, "enabled").as_deref(), Some("yes"));
    assert_eq!(prop(ntp, "servers").as_deref(), Some("ke.pool.ntp.org,africa.pool.ntp.org,pool.ntp.org"));
}

/// On a router with a flash/ directory only flash/ survives a reboot: the pages go there.
#[test]
fn the_pages_go_to_flash_where_there_is_one() {
    let s = render(&params("7.20", "Cafe"));
    assert!(s.contains(":local hsHtml \"hotspot-html\""), "{s}");
    assert!(s.contains("[/file find where name=\"flash\" and type=\"directory\"]"), "{s}");
    assert!(s.contains(":set hsHtml (\"flash/\" . $hsHtml)"), "{s}");
    assert!(s.contains("/ip hotspot profile set [find name=\"hsprof1\"] html-directory=$hsHtml"), "{s}");
}

/// The rotation script: per family, it replaces exactly the five rotated settings of the
/// router's env list (the removes name the same list and keys as the adds), sets the API user's
/// password to the one the agent gets, and restarts the container found by its tag; a hostile
/// API user name stays inside its string.
#[test]
fn the_rotation_script_replaces_the_rotated_secrets_only() {
    use hotspotctl::rotate::{NewSecrets, render as render_rotation};
    let secrets = NewSecrets {
        key: RouterKey::from_bytes([9; 32]),
        previous_key: RouterKey::from_bytes([7; 32]),
        routeros_password: Secret("NewPw0rdNewPw0rdNewPw0rdNewPw0rd".into()),
        access_key_id: "AKIANEW".into(),
        secret_access_key: Secret("n3w/s3cr3t+$\"x".into()),
    };
    let id = "cafe-01".parse().expect("id");
    for (version, list_prop) in [("7.19", "name"), ("7.20", "list"), ("7.22", "list")] {
        let v: RosVersion = version.parse().expect("version");
        let s = render_rotation(v, &id, "hotspot-agent", &secrets);
        let env = env_of(&s).expect("parses");
        let want = [
            ("HOTSPOT_ROUTER_KEY", RouterKey::from_bytes([9; 32]).to_hex()),
            ("HOTSPOT_ROUTER_KEY_PREVIOUS", RouterKey::from_bytes([7; 32]).to_hex()),
            ("ROUTEROS_PASSWORD", "NewPw0rdNewPw0rdNewPw0rdNewPw0rd".to_string()),
            ("AWS_ACCESS_KEY_ID", "AKIANEW".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "n3w/s3cr3t+$\"x".to_string()),
        ];
        assert_eq!(env, want.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), "{version}");
        let ls = lines(&s).expect("lines");
        let word = |l: &[Tok], i: usize, w: &str| l.get(i) == Some(&Tok::Word(w.into()));
        let adds: Vec<&Vec<Tok>> = ls.iter().filter(|l| word(l, 0, "/container/envs") && word(l, 1, "add")).collect();
        let removes: Vec<&Vec<Tok>> =
            ls.iter().filter(|l| word(l, 0, "/container/envs") && word(l, 1, "remove")).collect();
        assert_eq!((adds.len(), removes.len()), (5, 5), "{version}");
        for l in adds.iter().chain(&removes) {
            assert_eq!(prop(l, list_prop).as_deref(), Some("hotspot-agent-cafe-01"), "{version}: {l:?}");
        }
        let removed: Vec<String> = removes.iter().filter_map(|l| prop(l, "key")).collect();
        assert_eq!(removed, want.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>());
        let user = ls.iter().find(|l| word(l, 0, "/user") && word(l, 1, "set")).expect("a /user set line");
        assert_eq!(prop(user, "password").as_deref(), Some("NewPw0rdNewPw0rdNewPw0rdNewPw0rd"));
        assert_eq!(prop(user, "name").as_deref(), Some("hotspot-agent"));
        // Stop before the changes, start after them.
        let pos = |w: &str| {
            ls.iter().position(|l| (0..l.len()).any(|i| word(l, i, "/container") && word(l, i + 1, w))).expect(w)
        };
        let first_env = ls.iter().position(|l| word(l, 0, "/container/envs")).expect("env lines");
        assert!(pos("stop") < first_env && first_env < pos("start"), "{version}");
        assert!(s.contains("comment=\"hotspot-agent:cafe-01\""), "finds the container by its tag");
    }
    let hostile =
        render_rotation("7.20".parse().expect("v"), &id, "x\" password=y\n/user add name=z group=full", &secrets);
    let user = lines(&hostile).expect("lines").into_iter().find(|l| l.first() == Some(&Tok::Word("/user".into())));
    let user = user.expect("one /user line");
    assert_eq!(prop(&user, "name").as_deref(), Some("x\" password=y\n/user add name=z group=full"));
    assert!(!hostile.lines().any(|l| l.trim_start().starts_with("/user add")), "no command escapes");
}
