//! Customers: list and search, create, read, update, identities, merge.

use std::collections::BTreeMap;

use app::{
    auth::{Agent, Staff, Supervisor},
    intake::{CustomerPatch, NewCustomer},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use domain::{CustomerId, Email, Identity, IdentityKind, Phone, Tier};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::{CustomerDto, Page},
    error::ApiResult,
    extract::{Cap, Json, Query},
    routes::{Errors, page_of, paginate, path_id},
};

use axum::Json as J;

#[derive(Debug, Deserialize, IntoParams)]
pub struct CustomerQuery {
    /// Part of the name, or an exact phone, email or external id.
    pub q: Option<String>,
    /// ordinary or vip
    pub tier: Option<String>,
    /// 1 to 200; default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Customers, newest first.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(CustomerQuery), responses((status = 200, body = Page<CustomerDto>), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<CustomerQuery>,
) -> ApiResult<J<Page<CustomerDto>>> {
    let page = page_of(q.limit, q.cursor.as_deref())?;
    let mut f = app::db::customers::Filter {
        q: q.q.filter(|s| !s.trim().is_empty()),
        ..Default::default()
    };
    f.tier = q.tier.as_deref().map(Tier::parse).transpose()?;
    if let Some(v) = &f.q {
        // Search by a phone number however it was typed.
        if let Ok(p) = Phone::parse(v) {
            f.q = Some(p.to_string());
        }
    }
    let rows = s.app.list_customers(&who, &f, &page).await?;
    Ok(J(paginate(
        rows,
        &page,
        |c| (c.created_at.millis(), c.id.to_string()),
        |c| CustomerDto::from(c),
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCustomerRequest {
    pub name: String,
    /// ordinary (default) or vip
    pub tier: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// An id in another system, namespaced: `wechat:oAbc…`, `shop:10023`.
    pub external_id: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

fn identities(
    phone: Option<&str>,
    email: Option<&str>,
    ext: Option<&str>,
) -> ApiResult<Vec<Identity>> {
    let mut out = Vec::new();
    if let Some(p) = phone {
        out.push(Identity::phone(&Phone::parse(p)?));
    }
    if let Some(e) = email {
        out.push(Identity::email(&Email::parse(e)?));
    }
    if let Some(x) = ext {
        out.push(Identity::external(x)?);
    }
    Ok(out)
}

#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = NewCustomerRequest, responses((status = 201, body = CustomerDto), Errors))]
pub async fn create(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Json(r): Json<NewCustomerRequest>,
) -> ApiResult<(StatusCode, J<CustomerDto>)> {
    let n = NewCustomer {
        name: r.name,
        tier: r.tier.as_deref().map(Tier::parse).transpose()?,
        identities: identities(r.phone.as_deref(), r.email.as_deref(), r.external_id.as_deref())?,
        attributes: r.attributes.into_iter().collect(),
    };
    Ok((StatusCode::CREATED, J(CustomerDto::from(&s.app.create_customer(&who, n).await?))))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = String, Path)), responses((status = 200, body = CustomerDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<CustomerDto>> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    Ok(J(CustomerDto::from(&s.app.get_customer(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerPatchRequest {
    pub name: Option<String>,
    pub tier: Option<String>,
    /// Replaces all attributes.
    pub attributes: Option<BTreeMap<String, String>>,
}

#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = String, Path)), request_body = CustomerPatchRequest, responses((status = 200, body = CustomerDto), Errors))]
pub async fn update(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<CustomerPatchRequest>,
) -> ApiResult<J<CustomerDto>> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    let p = CustomerPatch {
        name: r.name,
        tier: r.tier.as_deref().map(Tier::parse).transpose()?,
        attributes: r.attributes.map(|a| a.into_iter().collect()),
    };
    Ok(J(CustomerDto::from(&s.app.update_customer(&who, id, p).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IdentityRequest {
    /// phone, email or external
    pub kind: String,
    pub value: String,
}

/// Links another phone, email or external id to the customer (IN-2).
#[utoipa::path(post, path = "/api/v1/customers/{id}/identities", tag = "customers", params(("id" = String, Path)), request_body = IdentityRequest, responses((status = 200, body = CustomerDto), Errors))]
pub async fn add_identity(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<IdentityRequest>,
) -> ApiResult<J<CustomerDto>> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    let i = Identity::parse(IdentityKind::parse(&r.kind)?, &r.value)?;
    Ok(J(CustomerDto::from(&s.app.add_identity(&who, id, i).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MergeRequest {
    /// The duplicate customer whose identities, conversations and tickets move here.
    pub from: String,
}

/// Merges a duplicate into this customer (supervisors).
#[utoipa::path(post, path = "/api/v1/customers/{id}/merge", tag = "customers", params(("id" = String, Path)), request_body = MergeRequest, responses((status = 200, body = CustomerDto), Errors))]
pub async fn merge(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Path(id): Path<String>,
    Json(r): Json<MergeRequest>,
) -> ApiResult<J<CustomerDto>> {
    let into = path_id(&id, CustomerId::parse, "customer")?;
    let from = CustomerId::parse(&r.from)?;
    Ok(J(CustomerDto::from(&s.app.merge_customers(&who, into, from).await?)))
}
