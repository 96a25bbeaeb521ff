//! Diesel table definitions, written by hand with the portable types both backends share.

diesel::table! {
    members (id) {
        id -> BigInt,
        name -> Text,
        legal_form -> Text,
        pricing_category -> Text,
        siret -> Nullable<Text>,
        email -> Nullable<Text>,
        headcount_hundredths -> Integer,
        turnover_cents -> BigInt,
        surface_m2 -> Integer,
        active -> Bool,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    memberships (user_id, member_id) {
        user_id -> BigInt,
        member_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> BigInt,
        email -> Text,
        ip -> Text,
        succeeded -> Bool,
        attempted_at -> Timestamp,
    }
}

diesel::table! {
    resources (id) {
        id -> BigInt,
        kind -> Text,
        name -> Text,
        description -> Text,
        location -> Text,
        capacity -> Integer,
        min_duration_minutes -> Nullable<Integer>,
        max_duration_minutes -> Nullable<Integer>,
        buffer_before_minutes -> Integer,
        buffer_after_minutes -> Integer,
        requires_approval -> Bool,
        allowed_categories -> Text,
        hourly_cents -> BigInt,
        daily_cap_cents -> Nullable<BigInt>,
        per_km_cents -> Nullable<BigInt>,
        billing_unit_minutes -> Integer,
        seats -> Nullable<Integer>,
        plate -> Nullable<Text>,
        energy -> Nullable<Text>,
        odometer_km -> Nullable<BigInt>,
        employer_member_id -> Nullable<BigInt>,
        weekly_contract_minutes -> Nullable<Integer>,
        hourly_cost_cents -> Nullable<BigInt>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    opening_hours (id) {
        id -> BigInt,
        resource_id -> BigInt,
        weekday -> Integer,
        open_minute -> Integer,
        close_minute -> Integer,
    }
}

diesel::table! {
    closures (id) {
        id -> BigInt,
        resource_id -> Nullable<BigInt>,
        start_at -> Timestamp,
        end_at -> Timestamp,
        reason -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> members (member_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(opening_hours -> resources (resource_id));
diesel::joinable!(closures -> resources (resource_id));

diesel::allow_tables_to_appear_in_same_query!(
    members,
    users,
    user_roles,
    memberships,
    sessions,
    api_tokens,
    login_attempts,
    resources,
    opening_hours,
    closures,
);
