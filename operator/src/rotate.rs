//! `hotspotctl router rotate`: new secrets for a router (signing key, AWS access key, RouterOS
//! password) and the short script that gives them to it.
//!
//! The switch is safe in any order. Until the router reports under its new key the cloud still
//! signs its jobs with the old one and accepts its signatures under either; the router's first
//! report under the new key makes the events function drop the old key and delete the old access
//! key. The router keeps the old key as `HOTSPOT_ROUTER_KEY_PREVIOUS`, only to read what the
//! cloud signed before it saw the switch (queued jobs, SMS re-login codes).

use std::io::Write;
use std::path::PathBuf;

use hotspot_cloud::store::Rotation;
use hotspot_core::{RouterId, RouterKey};

use crate::Error;
use crate::context::{Ctx, now};
use crate::provision::{self, Clients};
use crate::rsc::{self, RosVersion, Secret, quote};

/// What `router rotate` asks for.
pub struct RotateArgs<'a> {
    pub id: &'a RouterId,
    pub routeros_version: RosVersion,
    pub api_user: &'a str,
    pub out: Option<&'a PathBuf>,
    /// Replace a rotation whose script was never applied.
    pub again: bool,
}

/// The secrets the rotation script carries.
pub struct NewSecrets {
    pub key: RouterKey,
    pub previous_key: RouterKey,
    pub routeros_password: Secret,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// The script: stop the container, replace the five settings, set the API user's password,
/// start it again. Every value goes through [`quote`].
pub fn render(version: RosVersion, id: &RouterId, api_user: &str, s: &NewSecrets) -> String {
    let fam = version.family();
    let tag = quote(&rsc::tag(id));
    let list = quote(&rsc::env_list(id));
    let prop = fam.envs_list_prop();
    let mut out = String::new();
    let mut line = |l: &str| {
        out.push_str(l);
        out.push('\n');
    };
    line(&format!("# hotspot-agent secret rotation for router {id} (made by hotspotctl router rotate)."));
    line("# It holds the router's new secrets: import it once, then delete it (/file remove <name>).");
    line("# The old secrets stop working when the agent, restarted by this script, first reports.");
    line(&format!(":log info {}", quote(&format!("hotspot-agent: rotating the secrets of router {id}"))));
    line("{");
    line(&format!("    :local c [/container find where comment={tag}]"));
    line(&format!(
        "    :if ([:len $c] = 0) do={{ :error {} }}",
        quote(&format!("hotspot-agent: no container tagged {}", rsc::tag(id)))
    ));
    line("    # Already stopped is fine (stop would fail and end the import).");
    line("    :do { /container stop $c } on-error={}");
    line("    # The property naming a stopped container differs across releases (status=stopped, or a");
    line("    # stopped flag): either ends the wait, for at most two minutes.");
    line("    :local done false");
    line("    :local n 0");
    line("    :while (!$done && $n < 120) do={");
    line("        :delay 1s");
    line("        :set n ($n + 1)");
    line("        :do { :if ([/container get $c status] = \"stopped\") do={ :set done true } } on-error={}");
    line("        :do { :if ([/container get $c stopped]) do={ :set done true } } on-error={}");
    line("    }");
    line("    :if (!$done) do={ :error \"hotspot-agent: the container did not stop; nothing was changed\" }");
    let entries = [
        ("HOTSPOT_ROUTER_KEY", s.key.to_hex()),
        ("HOTSPOT_ROUTER_KEY_PREVIOUS", s.previous_key.to_hex()),
        ("ROUTEROS_PASSWORD", s.routeros_password.0.clone()),
        ("AWS_ACCESS_KEY_ID", s.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", s.secret_access_key.0.clone()),
    ];
    for (k, _) in &entries {
        line(&format!("    /container/envs remove [find where {prop}={list} and key={}]", quote(k)));
    }
    for (k, v) in &entries {
        line(&format!("    /container/envs add {prop}={list} key={} value={}", quote(k), quote(v)));
    }
    line(&format!("    /user set [find where name={}] password={}", quote(api_user), quote(&s.routeros_password.0)));
    line("    /container start $c");
    line("}");
    line(&format!(
        ":log info {}",
        quote(&format!("hotspot-agent: router {id} has its new secrets; the container is starting"))
    ));
    out
}

pub async fn rotate(ctx: &Ctx, a: &RotateArgs<'_>) -> Result<String, Error> {
    let id = a.id;
    if a.api_user.trim().is_empty() {
        return Err(Error::Usage("--api-user must not be empty".into()));
    }
    let c = Clients::new(&ctx.config, &ctx.table);
    let record = c.store.get_router(id).await?.ok_or_else(|| Error::Usage(format!("router {id} not found")))?;
    if record.mode() == hotspot_cloud::store::router::RouterMode::Radius {
        return Err(Error::Usage(format!(
            "router {id} is a RADIUS-mode router: it has no agent, access key or RouterOS API user to rotate; \
             nothing was changed"
        )));
    }
    if let (Some(r), false) = (&record.rotation, a.again) {
        return Err(Error::Usage(format!(
            "router {id} has a rotation waiting since {} (unix) for the router to switch: import its script, \
             or pass --again to replace it (that script then no longer works); nothing was changed",
            r.started_at
        )));
    }
    let out = a.out.cloned().unwrap_or_else(|| PathBuf::from(format!("{id}-rotate.rsc")));
    if out.exists() {
        return Err(Error::Usage(format!("{} exists: pass another --out; nothing was changed", out.display())));
    }
    let user = provision::iam_user_name(id);
    let fail = |what: String, e: String| Error::Usage(format!("{what}: {e}; nothing was changed"));
    let existing = match c.iam.list_access_keys().user_name(&user).send().await {
        Ok(o) => o.access_key_metadata.into_iter().filter_map(|k| k.access_key_id).collect::<Vec<_>>(),
        Err(e) => {
            return Err(fail(format!("listing the access keys of IAM user {user}"), provision::aws_err(e)));
        }
    };
    // Keys the router no longer uses go first (IAM allows two per user): a replaced rotation's,
    // never applied, and one the events function has not managed to delete after a switch.
    let dead: Vec<&String> =
        record.rotation.iter().map(|r| &r.access_key_id).chain(&record.retiring_access_key).collect();
    for k in dead.iter().filter(|k| existing.contains(k)) {
        if let Err(e) = c.iam.delete_access_key().user_name(&user).access_key_id(*k).send().await {
            return Err(fail(format!("deleting the unused access key {k}"), provision::aws_err(e)));
        }
    }
    if let Some(k) = &record.retiring_access_key {
        c.store.clear_retiring_access_key(id, k).await?;
    }
    let in_use: Vec<&String> = existing.iter().filter(|k| !dead.contains(k)).collect();
    if in_use.len() > 1 {
        return Err(Error::Usage(format!(
            "IAM user {user} has {} access keys ({}); a router uses one. Delete the one it does not use \
             (aws iam delete-access-key), then rotate; nothing was changed",
            in_use.len(),
            in_use.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let key = match c.iam.create_access_key().user_name(&user).send().await {
        Ok(o) => match o.access_key {
            Some(k) => k,
            None => return Err(Error::Usage("IAM created no access key; nothing was changed".into())),
        },
        Err(e) => {
            return Err(fail(format!("creating an access key for IAM user {user}"), provision::aws_err(e)));
        }
    };
    let rot = Rotation {
        key: RouterKey::generate(),
        started_at: now(),
        access_key_id: key.access_key_id.clone(),
        old_access_key_id: in_use.first().map(|k| k.to_string()),
    };
    let undo_key = || async {
        let _ = c.iam.delete_access_key().user_name(&user).access_key_id(&key.access_key_id).send().await;
    };
    match c.store.begin_rotation(id, &rot, record.rotation.as_ref()).await {
        Ok(true) => {}
        Ok(false) => {
            undo_key().await;
            return Err(Error::Usage(format!(
                "router {id} changed meanwhile (another rotate, or the router switched): run it again; nothing was changed"
            )));
        }
        Err(e) => {
            undo_key().await;
            return Err(e.into());
        }
    }
    let secrets = NewSecrets {
        key: rot.key.clone(),
        previous_key: record.key.clone(),
        routeros_password: crate::router::random_password(),
        access_key_id: key.access_key_id.clone(),
        secret_access_key: Secret(key.secret_access_key),
    };
    let script = render(a.routeros_version, id, a.api_user, &secrets);
    let written = crate::router::create_secret_file(&out)
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|mut file| file.write_all(script.as_bytes()).and_then(|()| file.sync_all()));
    if let Err(source) = written {
        return Err(Error::Io {
            what: format!(
                "the rotation of router {id} is recorded but writing {} failed, so its new secrets are lost: \
                 run `hotspotctl router rotate --id {id} --again`",
                out.display()
            ),
            source,
        });
    }
    println!("New secrets for router {id} are in {} (mode 0600).", out.display());
    println!("Upload it to the router and import it: /import file-name={}", file_name(&out));
    println!("It restarts the agent's container with them. The router's old signing key, AWS access key");
    println!("and RouterOS password stop working when the agent first reports after the restart");
    println!("(`hotspotctl router show --id {id}` says when). Until then the router works as before.");
    Ok(format!(
        "rotation started: new access key {}; {} retires when the router switches",
        rot.access_key_id,
        rot.old_access_key_id.as_deref().unwrap_or("no old access key")
    ))
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
