//! Every route of the API, in one table. The OpenAPI document is generated from the same
//! table, so a route cannot exist without its documentation (and its authorization-matrix row,
//! which the integration tests check against this document).

use axum::{Router, extract::DefaultBodyLimit};
use tower_http::trace::TraceLayer;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    AppState,
    error::{ApiError, Code},
    routes::{
        analytics, audit, auth, bot, channels, collaboration, compensation, conversations,
        customers, directory, email, events, feedback, health, insights, kb, learning, nlu, oidc,
        personal_data, proactive, public, routing, sla, stages, ticket_links, tickets, translation,
        triggers, two_factor, uploads,
    },
    telemetry,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Huiting API", description = "慧听 Huiting: intelligent customer service and the customer-feedback loop. Errors are `{\"code\", \"message\", \"type\"}`; staff authenticate with the session cookie (plus `X-CSRF-Token` on writes) or `Authorization: Bearer <API token>`; widget visitors with `Authorization: Bearer <visitor token>`."),
    modifiers(&Security),
    tags(
        (name = "auth"), (name = "directory"), (name = "customers"), (name = "conversations"),
        (name = "tickets"), (name = "sla", description = "SLA policies, business calendars, ticket clocks, escalation notifications"), (name = "routing", description = "Presence, capacity, team strategies and queues (TK-5)"), (name = "triggers", description = "Trigger and automation rules"), (name = "compensation", description = "TK-7: compensation within authority, approval chains"), (name = "collaboration", description = "TK-6: requests to departments"), (name = "nlu", description = "The bot's language engine: intents, models, analysis"), (name = "bot", description = "The bot's configuration, flows, connectors and metrics"), (name = "kb", description = "Knowledge base: FAQ entries, articles, search, matching, reply templates, agent assist"), (name = "realtime"), (name = "audit"), (name = "public", description = "No staff login: widget visitors and tracking links"), (name = "channels", description = "WeChat, signed webhooks, SMS, call records, event webhooks, identity verification (issue 8)"), (name = "proactive", description = "Proactive service: rules, audience preview, quiet hours, frequency cap, opt-out (issue 8)"), (name = "feedback", description = "FB-1…FB-5, IN-5, AN-5: surveys, feedback and reviews, classification, churn risk"), (name = "health"), (name = "analytics", description = "KPIs, trends, Pareto, heat map, drill-down and their CSV/XLSX export (AN-1, AN-4)"), (name = "alerts", description = "AN-2/AN-5: negative share, problem-code spikes, product fault rates"), (name = "quality", description = "AN-6: quality inspection rules, findings, the daily index"), (name = "reports", description = "AN-7: scheduled reports"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::extract::SESSION_COOKIE,
            ))),
        );
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes and their OpenAPI document.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        // Two-factor login (issue 9, security).
        .routes(routes!(two_factor::second_factor))
        .routes(routes!(two_factor::enroll_with_challenge))
        .routes(routes!(two_factor::status))
        .routes(routes!(two_factor::enroll, two_factor::disable))
        .routes(routes!(two_factor::confirm))
        .routes(routes!(two_factor::get_settings, two_factor::put_settings))
        // OIDC single sign-on (issue 9 item 4).
        .routes(routes!(oidc::info))
        .routes(routes!(oidc::start))
        .routes(routes!(oidc::callback))
        .routes(routes!(oidc::get_settings, oidc::put_settings))
        .routes(routes!(directory::list_users, directory::create_user))
        .routes(routes!(directory::get_user, directory::update_user))
        .routes(routes!(directory::list_teams, directory::create_team))
        .routes(routes!(directory::get_team, directory::update_team))
        .routes(routes!(directory::list_problem_codes))
        .routes(routes!(directory::put_problem_code))
        .routes(routes!(directory::list_stages))
        .routes(routes!(directory::list_tokens, directory::create_token))
        .routes(routes!(directory::revoke_token))
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(customers::get, customers::update))
        .routes(routes!(customers::add_identity))
        .routes(routes!(customers::merge))
        .routes(routes!(personal_data::export))
        .routes(routes!(personal_data::erase))
        .routes(routes!(personal_data::get_settings, personal_data::put_settings))
        .routes(routes!(conversations::list, conversations::create))
        .routes(routes!(conversations::get, conversations::update))
        .routes(routes!(conversations::messages, conversations::post_message))
        .routes(routes!(tickets::list, tickets::create))
        .routes(routes!(tickets::get, tickets::update))
        .routes(routes!(tickets::set_status))
        .routes(routes!(tickets::assign))
        .routes(routes!(tickets::reply))
        .routes(routes!(tickets::note))
        .routes(routes!(tickets::messages))
        .routes(routes!(tickets::history))
        .routes(routes!(compensation::for_ticket, compensation::create))
        .routes(routes!(compensation::list))
        .routes(routes!(compensation::approve))
        .routes(routes!(compensation::reject))
        .routes(routes!(compensation::report))
        .routes(routes!(compensation::get_limits, compensation::put_limits))
        .routes(routes!(collaboration::create))
        .routes(routes!(collaboration::list))
        .routes(routes!(collaboration::get))
        .routes(routes!(collaboration::update))
        .routes(routes!(collaboration::complete))
        .routes(routes!(stages::put_stage))
        .routes(routes!(stages::get_notices, stages::put_notices))
        .routes(routes!(sla::get_policies, sla::put_policies))
        .routes(routes!(sla::get_calendars, sla::put_calendars))
        .routes(routes!(sla::ticket_sla))
        .routes(routes!(sla::notifications))
        .routes(routes!(nlu::list_intents, nlu::create_intent))
        .routes(routes!(nlu::get_intent, nlu::update_intent, nlu::delete_intent))
        .routes(routes!(nlu::add_examples))
        .routes(routes!(nlu::delete_example))
        .routes(routes!(nlu::list_models, nlu::train))
        .routes(routes!(nlu::activate_model))
        .routes(routes!(nlu::analyze))
        .routes(routes!(kb::list_faqs, kb::create_faq))
        .routes(routes!(kb::get_faq, kb::update_faq, kb::delete_faq))
        .routes(routes!(kb::publish_faq))
        .routes(routes!(kb::unpublish_faq))
        .routes(routes!(kb::faq_versions))
        .routes(routes!(kb::list_articles, kb::create_article))
        .routes(routes!(kb::get_article, kb::update_article, kb::delete_article))
        .routes(routes!(kb::publish_article))
        .routes(routes!(kb::unpublish_article))
        .routes(routes!(kb::article_versions))
        .routes(routes!(kb::import))
        .routes(routes!(kb::export))
        .routes(routes!(kb::search_kb))
        .routes(routes!(kb::reindex))
        .routes(routes!(kb::match_faq))
        .routes(routes!(kb::get_settings, kb::put_settings))
        .routes(routes!(kb::list_templates, kb::create_template))
        .routes(routes!(kb::update_template, kb::delete_template))
        .routes(routes!(kb::render_template))
        .routes(routes!(kb::suggestions))
        .routes(routes!(events::staff_events))
        .routes(routes!(events::staff_ws))
        .routes(routes!(events::typing))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .routes(routes!(public::open, public::list))
        .routes(routes!(public::get))
        .routes(routes!(public::messages, public::post_message))
        .routes(routes!(public::tickets))
        .routes(routes!(public::track))
        .routes(routes!(bot::pick))
        .routes(routes!(bot::get_settings, bot::put_settings))
        .routes(routes!(bot::metrics))
        .routes(routes!(events::visitor_events))
        .routes(routes!(routing::get_presence, routing::put_presence))
        .routes(routes!(routing::put_capacity))
        .routes(routes!(routing::put_team_routing))
        .routes(routes!(routing::public_queue))
        .routes(routes!(triggers::list, triggers::create))
        .routes(routes!(triggers::get, triggers::update, triggers::delete))
        .routes(routes!(events::visitor_ws))
        // The learning loop (BOT-7).
        .routes(routes!(learning::list))
        .routes(routes!(learning::refresh))
        .routes(routes!(learning::get))
        .routes(routes!(learning::accept))
        .routes(routes!(learning::dismiss))
        .routes(routes!(learning::correct_intent))
        // Machine translation for agents (BOT-9).
        .routes(routes!(translation::get_settings, translation::put_settings))
        .routes(routes!(translation::translate_message))
        .routes(routes!(translation::translate_draft))
        // channels (issue 8)
        .routes(routes!(channels::list, channels::create))
        .routes(routes!(channels::get, channels::update))
        .routes(routes!(channels::wechat_verify, channels::wechat_receive))
        .routes(routes!(channels::webhook_receive))
        .routes(routes!(channels::sms_receive))
        .routes(routes!(channels::phone_call))
        .routes(routes!(channels::list_webhooks, channels::create_webhook))
        .routes(routes!(channels::delete_webhook))
        .routes(routes!(channels::retry_delivery))
        .routes(routes!(channels::deliveries))
        .routes(routes!(channels::staff_verify_start))
        .routes(routes!(channels::staff_verify_confirm))
        .routes(routes!(channels::visitor_verify_start))
        .routes(routes!(channels::visitor_verify_confirm))
        // Proactive service (issue 8 item 6).
        .routes(routes!(proactive::list, proactive::create))
        .routes(routes!(proactive::get, proactive::update, proactive::delete))
        .routes(routes!(proactive::preview))
        .routes(routes!(proactive::run))
        .routes(routes!(proactive::sends))
        .routes(routes!(proactive::get_settings, proactive::put_settings))
        .routes(routes!(proactive::get_opt_out, proactive::put_opt_out))
        // The email channel (issue 8).
        .routes(routes!(email::get_settings, email::put_settings))
        .routes(routes!(email::file))
        // Analytics (issue 7).
        .routes(routes!(analytics::kpis))
        .routes(routes!(analytics::trends))
        .routes(routes!(analytics::pareto))
        .routes(routes!(analytics::heatmap))
        .routes(routes!(analytics::cases))
        .routes(routes!(analytics::agents))
        // Alerts, quality inspection, scheduled reports (AN-2, AN-5…AN-7).
        .routes(routes!(insights::list_alerts))
        .routes(routes!(insights::get_alert_settings, insights::put_alert_settings))
        .routes(routes!(insights::evaluate_alerts))
        .routes(routes!(insights::get_alert))
        .routes(routes!(insights::ack_alert))
        .routes(routes!(insights::resolve_alert))
        .routes(routes!(insights::get_quality_rules, insights::put_quality_rules))
        .routes(routes!(insights::inspect_quality))
        .routes(routes!(insights::quality_findings))
        .routes(routes!(insights::quality_index))
        .routes(routes!(insights::list_schedules, insights::create_schedule))
        .routes(routes!(insights::update_schedule))
        .routes(routes!(insights::run_schedule))
        .routes(routes!(insights::list_reports))
        .routes(routes!(insights::download_report))
        .routes(routes!(analytics::sentiment))
        // Feedback loop (FB-1…FB-5, IN-5, AN-5).
        .routes(routes!(feedback::get_survey_settings, feedback::put_survey_settings))
        .routes(routes!(feedback::list_surveys))
        .routes(routes!(feedback::public_survey, feedback::answer_survey))
        // Uploads: a larger body limit than the API's 1 MiB, on these routes only.
        .routes(
            routes!(feedback::list, feedback::submit)
                .layer(DefaultBodyLimit::max(feedback::FEEDBACK_BODY_LIMIT)),
        )
        .routes(
            routes!(feedback::submit_public)
                .layer(DefaultBodyLimit::max(feedback::FEEDBACK_BODY_LIMIT)),
        )
        .routes(routes!(feedback::get, feedback::update))
        .routes(routes!(feedback::attachment))
        .routes(routes!(feedback::import))
        .routes(routes!(feedback::list_signals))
        .routes(routes!(feedback::customer_churn))
        .routes(routes!(feedback::churn_list))
        // Ticket links and merges (issue 5).
        .routes(routes!(ticket_links::list, ticket_links::create))
        .routes(routes!(ticket_links::delete))
        .routes(routes!(ticket_links::merge))
        .routes(routes!(ticket_links::split))
        // Images in chat (issue 6): a body limit for one image, on the upload routes only.
        .routes(
            routes!(uploads::visitor_upload)
                .layer(DefaultBodyLimit::max(uploads::UPLOAD_BODY_LIMIT)),
        )
        .routes(
            routes!(uploads::staff_upload).layer(DefaultBodyLimit::max(uploads::UPLOAD_BODY_LIMIT)),
        )
        .routes(routes!(uploads::file))
}

/// The OpenAPI document as served and checked in at `docs/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// Request bodies above this are refused with 413 (attachments travel as URLs, not bytes).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let (api, doc) = api().split_for_parts();
    api.merge(SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", doc))
        // Operations, outside the API document: Prometheus scrapes it (docs/operations.md).
        .route("/metrics", axum::routing::get(telemetry::metrics))
        .fallback(crate::spa::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::guard::public_limit))
        .layer(axum::middleware::from_fn(crate::guard::headers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(telemetry::track))
        .layer(TraceLayer::new_for_http().make_span_with(telemetry::span))
        .with_state(state)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this endpoint does not take that method; see /api/v1/docs",
    )
}
