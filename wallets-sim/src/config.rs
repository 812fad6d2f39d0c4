//! What each simulator is set up as: the merchant's credentials and the documented variants.

#[derive(Debug, Clone)]
pub struct MtnSimConfig {
    pub subscription_key: String,
    pub api_user: String,
    pub api_key: String,
    pub target_environment: String,
    /// The only currency taken (the sandbox: `EUR`).
    pub currency: String,
    pub token_lifetime_secs: u64,
    /// A failure's `reason` as the `{"code","message"}` object of the OpenAPI description rather
    /// than the bare code string the sandbox sends.
    pub reason_as_object: bool,
    /// Callbacks as `POST` rather than the sandbox's `PUT`.
    pub callback_post: bool,
}

impl Default for MtnSimConfig {
    fn default() -> Self {
        MtnSimConfig {
            subscription_key: "sim-subscription-key".into(),
            api_user: "c72025f5-5cd1-4630-99e4-8ba4722fad56".into(),
            api_key: "sim-api-key".into(),
            target_environment: "mtnuganda".into(),
            currency: "UGX".into(),
            token_lifetime_secs: 3600,
            reason_as_object: false,
            callback_post: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AirtelSimConfig {
    pub client_id: String,
    pub client_secret: String,
    /// `X-Country` and `X-Currency` the merchant is set up for.
    pub country: String,
    pub currency: String,
    /// The application's callback URL (set on the portal, not per request); `None`: no callbacks.
    pub callback_url: Option<String>,
    /// Callback authentication's private key: callbacks then carry a `hash`.
    pub callback_key: Option<String>,
    pub token_lifetime_secs: u64,
    /// Payments only by v2 with message signing, checked as Airtel checks it (v1 refused).
    pub message_signing: bool,
}

impl Default for AirtelSimConfig {
    fn default() -> Self {
        AirtelSimConfig {
            client_id: "sim-client-id".into(),
            client_secret: "sim-client-secret".into(),
            country: "UG".into(),
            currency: "UGX".into(),
            callback_url: None,
            callback_key: None,
            token_lifetime_secs: 180,
            message_signing: false,
        }
    }
}
