//! The wallets a purchase is paid from, behind one interface (`wallets::Provider`): M-Pesa
//! always (Daraja), Airtel Money and MTN MoMo when their settings are there. Built once in each
//! function's `main`; the purchase, the status read and the reconciler go through [`Payments`],
//! the callback function and `settle::link` read notifications through [`Notices`].

use std::future::Future;

use daraja::{DarajaClient, TokenStore};
use hotspot_core::PurchaseId;
use hotspot_core::currency::Money;
use hotspot_core::phone::Country;
use hotspot_core::wallet::Wallet;
use wallets::airtel::{AirtelClient, AirtelConfig};
use wallets::mtn::{MtnClient, MtnConfig};
use wallets::{Notification, Outcome, PaymentRequest, Provider, Started, WalletError};

/// Starting and asking about payments, by wallet.
pub trait Payments: Send + Sync {
    fn start_payment(
        &self,
        w: Wallet,
        req: &PaymentRequest,
    ) -> impl Future<Output = Result<Started, WalletError>> + Send;
    fn payment_status(&self, w: Wallet, reference: &str) -> impl Future<Output = Result<Outcome, WalletError>> + Send;
    /// The country of `w`'s merchant here, whose numbers and currency it takes; `None`: `w` is
    /// not configured in this deployment.
    fn merchant_country(&self, w: Wallet) -> Option<Country>;
}

fn not_configured(w: Wallet) -> WalletError {
    WalletError::Invalid(format!("{} is not configured in this deployment", w.label()))
}

/// M-Pesa alone: the Daraja client as it always was.
impl<S: TokenStore> Payments for DarajaClient<S> {
    async fn start_payment(&self, w: Wallet, req: &PaymentRequest) -> Result<Started, WalletError> {
        match w {
            Wallet::Mpesa => Provider::start(self, req).await,
            w => Err(not_configured(w)),
        }
    }
    async fn payment_status(&self, w: Wallet, reference: &str) -> Result<Outcome, WalletError> {
        match w {
            Wallet::Mpesa => Provider::status(self, reference).await,
            w => Err(not_configured(w)),
        }
    }
    fn merchant_country(&self, w: Wallet) -> Option<Country> {
        (w == Wallet::Mpesa).then_some(Country::Kenya)
    }
}

/// Every wallet this deployment is set up for.
pub struct Providers<S> {
    pub mpesa: DarajaClient<S>,
    pub airtel: Option<AirtelClient>,
    pub mtn: Option<MtnClient>,
}

impl<S: TokenStore> Payments for Providers<S> {
    async fn start_payment(&self, w: Wallet, req: &PaymentRequest) -> Result<Started, WalletError> {
        match (w, &self.airtel, &self.mtn) {
            (Wallet::Mpesa, _, _) => Provider::start(&self.mpesa, req).await,
            (Wallet::AirtelMoney, Some(a), _) => a.start(req).await,
            (Wallet::MtnMomo, _, Some(m)) => m.start(req).await,
            (w, _, _) => Err(not_configured(w)),
        }
    }
    async fn payment_status(&self, w: Wallet, reference: &str) -> Result<Outcome, WalletError> {
        match (w, &self.airtel, &self.mtn) {
            (Wallet::Mpesa, _, _) => Provider::status(&self.mpesa, reference).await,
            (Wallet::AirtelMoney, Some(a), _) => a.status(reference).await,
            (Wallet::MtnMomo, _, Some(m)) => m.status(reference).await,
            (w, _, _) => Err(not_configured(w)),
        }
    }
    fn merchant_country(&self, w: Wallet) -> Option<Country> {
        match w {
            Wallet::Mpesa => Some(Country::Kenya),
            Wallet::AirtelMoney => self.airtel.as_ref().map(|a| a.config().country),
            Wallet::MtnMomo => self.mtn.as_ref().map(|m| m.config().country),
        }
    }
}

/// What reading a wallet's notifications needs: Airtel's callback key, MTN's merchant.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    pub airtel: Option<AirtelConfig>,
    pub mtn: Option<MtnConfig>,
}

/// M-Pesa's callbacks only (tests, and functions that read no other wallet's).
pub static MPESA_ONLY: Notices = Notices { airtel: None, mtn: None };

impl Notices {
    pub fn read_notice(&self, w: Wallet, body: &[u8]) -> Result<Notification, NoticeError> {
        match w {
            Wallet::Mpesa => wallets::mpesa::parse_callback(body).map_err(|e| match e {
                daraja::CallbackError::TooLarge { .. } => NoticeError::TooLarge,
                e => NoticeError::Malformed(e.to_string()),
            }),
            Wallet::AirtelMoney => {
                let cfg = self.airtel.as_ref().ok_or(NoticeError::NotConfigured(w))?;
                wallets::airtel::parse_callback(cfg, body).map_err(|e| match e {
                    wallets::airtel::CallbackError::TooLarge => NoticeError::TooLarge,
                    wallets::airtel::CallbackError::BadHash => NoticeError::BadHash,
                    e => NoticeError::Malformed(e.to_string()),
                })
            }
            Wallet::MtnMomo => {
                let cfg = self.mtn.as_ref().ok_or(NoticeError::NotConfigured(w))?;
                wallets::mtn::parse_callback(cfg, body).map_err(|e| match e {
                    wallets::mtn::CallbackError::TooLarge => NoticeError::TooLarge,
                    e => NoticeError::Malformed(e.to_string()),
                })
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("notification body too large")]
    TooLarge,
    #[error("not a notification: {0}")]
    Malformed(String),
    #[error("notification hash missing or wrong")]
    BadHash,
    #[error("{} is not configured here", .0.label())]
    NotConfigured(Wallet),
}

/// The provider's reference for a purchase, when it is known before the prompt goes out: Airtel
/// keys a payment by our id, MTN by the id derived from it. A push whose answer is lost then
/// still has its reference, for the status query. Daraja's CheckoutRequestID comes only back.
pub fn reference_before(w: Wallet, purchase: &PurchaseId) -> Option<String> {
    match w {
        Wallet::Mpesa => None,
        Wallet::AirtelMoney => Some(purchase.to_string()),
        Wallet::MtnMomo => Some(wallets::mtn::reference_id(purchase.as_str())),
    }
}

/// The amount paid, as far as the notification says: Airtel's never states one (its USSD push
/// is for the amount asked, which the payer cannot change), so it is the price; M-Pesa's and
/// MTN's state it, and one missing is not taken on trust.
pub fn paid_amount(w: Wallet, stated: Option<Money>, price: Money) -> Option<Money> {
    match (stated, w) {
        (Some(a), _) => Some(a),
        (None, Wallet::AirtelMoney) => Some(price),
        (None, _) => None,
    }
}

/// The notification URL for `w`: `…/cb/{secret}` is M-Pesa's, `…/cb/airtel/{secret}` and
/// `…/cb/mtn/{secret}` the others' (Airtel's is set once on its portal, not per request).
pub fn callback_url_for(w: Wallet, mpesa_url: &str) -> String {
    let segment = match w {
        Wallet::Mpesa => return mpesa_url.to_string(),
        Wallet::AirtelMoney => "airtel",
        Wallet::MtnMomo => "mtn",
    };
    match mpesa_url.rfind("/cb/") {
        Some(i) => format!("{}/cb/{segment}/{}", &mpesa_url[..i], &mpesa_url[i + 4..]),
        None => mpesa_url.to_string(),
    }
}

/// The wallet and secret of a callback path: `/cb/{secret}`, `/cb/airtel/{secret}`, `/cb/mtn/{secret}`.
pub fn callback_route(path: &str) -> Option<(Wallet, &str)> {
    let rest = path.strip_prefix("/cb/")?;
    Some(match rest.split_once('/') {
        Some(("airtel", secret)) => (Wallet::AirtelMoney, secret),
        Some(("mtn", secret)) => (Wallet::MtnMomo, secret),
        Some(_) => return None,
        None => (Wallet::Mpesa, rest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotspot_core::currency::Currency;

    #[test]
    fn callback_urls_and_routes_agree() {
        let base = "https://api.example.com/cb/s3cret";
        for w in Wallet::ALL {
            let url = callback_url_for(*w, base);
            let path = url.strip_prefix("https://api.example.com").unwrap();
            assert_eq!(callback_route(path), Some((*w, "s3cret")), "{url}");
        }
        assert_eq!(callback_route("/cb/paypal/x"), None);
        assert_eq!(callback_route("/other"), None);
    }

    #[test]
    fn amounts_only_airtel_leaves_unsaid() {
        let price = Money::parse(Currency::Ugx, "5000").unwrap();
        assert_eq!(paid_amount(Wallet::AirtelMoney, None, price), Some(price));
        assert_eq!(paid_amount(Wallet::Mpesa, None, price), None);
        assert_eq!(paid_amount(Wallet::MtnMomo, None, price), None);
        let ten = Money::parse(Currency::Ugx, "10").unwrap();
        assert_eq!(paid_amount(Wallet::AirtelMoney, Some(ten), price), Some(ten));
    }
}
