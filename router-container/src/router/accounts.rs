//! Subscriber accounts on the router: a PPP secret per account, its package's PPP profile, and
//! ending it at expiry. RouterOS keeps a disabled secret's session up, so ending an account
//! also drops its `/ppp/active` sessions.

use routeros::{Command, NewPppSecret, PppProfileSpec, PppSecretUpdate, PppService};

use super::naming::{ACCOUNT_LOCAL_ADDRESS, ACCOUNT_POOL, ACCOUNT_POOL_RANGES};
use super::{Result, Router, TAG, profile_name};
use crate::journal::AccountRecord;

fn service(a: &AccountRecord) -> PppService {
    a.service.parse().unwrap_or(PppService::Any)
}

impl Router {
    /// The accounts' address pool, made if the router has none of that name (never changed).
    async fn ensure_account_pool(&self) -> Result<()> {
        let found = self.ros.call(&Command::new("/ip/pool/print").where_eq("name", ACCOUNT_POOL)).await?;
        if !found.rows.is_empty() {
            return Ok(());
        }
        let add = Command::new("/ip/pool/add")
            .attr("name", ACCOUNT_POOL)
            .attr("ranges", ACCOUNT_POOL_RANGES)
            .attr("comment", format!("{TAG} subscriber accounts"));
        match self.ros.call(&add).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.trap_kind(), Some(routeros::TrapKind::AlreadyExists)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Creates or updates the account's secret, enabled, on its package's profile. Looks before
    /// adding: an add whose reply was lost may have happened.
    pub async fn apply_account(&self, a: &AccountRecord) -> Result<()> {
        self.ensure_account_pool().await?;
        let profile = profile_name(&a.package);
        let spec = PppProfileSpec {
            name: profile.clone(),
            rate_limit: Some(a.package.rate_limit()),
            local_address: Some(ACCOUNT_LOCAL_ADDRESS.into()),
            remote_address: Some(ACCOUNT_POOL.into()),
            only_one: true,
        };
        self.ros.ensure_ppp_profile(&spec).await?;
        let comment = format!("{TAG} account expires {}", a.expires_at);
        let update = PppSecretUpdate {
            password: Some(a.password.clone()),
            service: Some(service(a)),
            profile: Some(profile.clone()),
            comment: Some(comment.clone()),
            disabled: Some(false),
        };
        if let Some(existing) = self.ros.find_ppp_secret(a.number.as_str()).await? {
            return self.ros.set_ppp_secret(&existing.id, &update).await;
        }
        let new = NewPppSecret {
            name: a.number.to_string(),
            password: a.password.clone(),
            service: service(a),
            profile: Some(profile),
            remote_address: None,
            comment: Some(comment),
        };
        match self.ros.add_ppp_secret(&new).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.trap_kind(), Some(routeros::TrapKind::AlreadyExists)) => {
                match self.ros.find_ppp_secret(a.number.as_str()).await? {
                    Some(existing) => self.ros.set_ppp_secret(&existing.id, &update).await,
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Ends an account: its secret disabled (kept, for a renewal to enable) and its sessions
    /// dropped. Idempotent; an account the router no longer has is already ended.
    pub async fn end_account(&self, a: &AccountRecord) -> Result<()> {
        if let Some(s) = self.ros.find_ppp_secret(a.number.as_str()).await?
            && !s.disabled
        {
            self.ros.set_ppp_secret_disabled(&s.id, true).await?;
        }
        for session in self.ros.find_ppp_active(a.number.as_str()).await? {
            match self.ros.remove_ppp_active(&session.id).await {
                Ok(()) => {}
                // Gone meanwhile (the client hung up): what we wanted.
                Err(e) if matches!(e.trap_kind(), Some(routeros::TrapKind::NoSuchItem)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
