//! `local-stack`: the whole system on this machine (see README "Quickstart"). Ctrl-C stops it.
//!
//! For scripts (`scripts/test-browser.sh`): with `LOCAL_STACK_READY_FILE=path` set, once the stack
//! is up it also writes its URLs to that file as one JSON object (written whole, then renamed into
//! place, so a reader that sees the file sees all of it). The printed text is the same either way.
//!
//! `local-stack --radius` also runs a router in RADIUS mode (`cafe-kilimani`): FreeRADIUS with our
//! configuration (Debian's `freeradius` must be installed) and that router's hotspot, whose login
//! page sends guests to the cloud portal (`docs/radius.md`).

use std::path::PathBuf;

use e2e::stack::{Options, Stack, packages};

#[tokio::main]
async fn main() {
    let bin_dir = std::env::current_exe().ok().and_then(|p| p.parent().map(PathBuf::from)).unwrap_or_default();
    let radius_site = std::env::args().skip(1).any(|a| a == "--radius");
    let stack = match Stack::start(Options { dashboard_admin: true, radius_site, ..Options::local(bin_dir) }).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("local-stack: {e}");
            std::process::exit(1);
        }
    };
    if let Some(path) = std::env::var_os("LOCAL_STACK_READY_FILE").filter(|p| !p.is_empty())
        && let Err(e) = write_ready_file(&PathBuf::from(path), &stack)
    {
        eprintln!("local-stack: LOCAL_STACK_READY_FILE: {e}");
        drop(stack);
        std::process::exit(1);
    }
    let pk: Vec<String> = packages().iter().map(|p| format!("{} ({})", p.name(), p.price())).collect();
    let radius = match &stack.radius_site {
        Some(site) => format!(
            "\n  RADIUS mode:         router {} through FreeRADIUS (auth port {}); its hotspot's login page,\n                       which sends the guest to the cloud portal:\n                       {}\n",
            site.router.id,
            site.freeradius.auth_port,
            site.hotspot.login_url()
        ),
        None => String::new(),
    };
    println!(
        "\nThe hotspot is running.\n\n  Router:        {} with packages {}\n  Guest device:  {} at {} (joined to the hotspot)\n\n  1. Open the portal, as the hotspot's login.html would send the guest:\n       {}\n  2. Choose a package, enter any Kenyan number (e.g. 0712 345 678), press Pay.\n  3. Approve it on the phone page (play the guest's phone):\n       {}\n  4. The waiting page turns to success; the guest is online on the router.\n  5. The receipt SMS, with a re-login code for a device whose MAC changed, is in the guest's inbox:\n       {}\n\n  Dashboard:           {} (sign in as {} / {})\n  Cloud API (gateway): {}\n  AWS (moto):          {}\n  Logs and state:      {}\n{}\nPress Ctrl-C to stop.",
        stack.router.id,
        pk.join(", "),
        stack.options.guest_mac,
        stack.options.guest_ip,
        stack.guest_portal_url(),
        stack.phone_url(),
        stack.sms_url(),
        stack.dashboard_url(),
        e2e::stack::DASHBOARD_LOGIN,
        e2e::stack::DASHBOARD_PASSWORD,
        stack.gateway_url,
        stack.moto.endpoint,
        stack.state_dir.display(),
        radius,
    );
    // Ctrl-C, or SIGTERM from a supervisor: either way every child is stopped by `drop(stack)`.
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    println!("\nStopping…");
    drop(stack);
    println!("Stopped.");
}

/// Writes the stack's addresses as JSON to `path` atomically (a temporary file beside it, renamed).
fn write_ready_file(path: &std::path::Path, stack: &Stack) -> std::io::Result<()> {
    let ready = serde_json::json!({
        "portal": stack.portal_url,
        "guest_portal": stack.guest_portal_url(),
        "phone": stack.phone_url(),
        "sms": stack.sms_url(),
        "gateway": stack.gateway_url,
        "dashboard": stack.dashboard_url(),
        "dashboard_login": e2e::stack::DASHBOARD_LOGIN,
        "dashboard_password": e2e::stack::DASHBOARD_PASSWORD,
        "moto": stack.moto.endpoint,
        "router_id": stack.router.id.as_str(),
        "guest_mac": stack.options.guest_mac.to_string(),
        "guest_ip": stack.options.guest_ip.to_string(),
        "state_dir": stack.state_dir,
        "pid": std::process::id(),
        "radius_hotspot": stack.radius_site.as_ref().map(|s| s.hotspot.login_url()),
        "radius_wanted": stack.radius_site.as_ref().map(|s| s.hotspot.wanted_url()),
        "radius_router": stack.radius_site.as_ref().map(|s| s.router.id.to_string()),
    });
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, format!("{ready}\n"))?;
    std::fs::rename(&tmp, path)
}
