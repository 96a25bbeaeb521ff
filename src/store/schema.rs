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
        name_key -> Text,
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
    login_throttles (scope, email, ip) {
        scope -> Text,
        email -> Text,
        ip -> Text,
        failures -> Integer,
        next_attempt_at -> Timestamp,
        last_attempt_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        kind -> Text,
        actor_id -> Nullable<BigInt>,
        subject_id -> Nullable<BigInt>,
        subject_email -> Nullable<Text>,
        ip -> Text,
        detail -> Text,
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
        parent_id -> Nullable<BigInt>,
        longest_block_minutes -> Integer,
        pool -> Nullable<Text>,
        name_key -> Text,
        shifts_version -> BigInt,
    }
}

diesel::table! {
    access_epoch (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    rules_epoch (id) {
        id -> Integer,
        version -> BigInt,
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

diesel::table! {
    series (id) {
        id -> BigInt,
        resource_id -> BigInt,
        member_id -> BigInt,
        rule -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bookings (id) {
        id -> BigInt,
        resource_id -> BigInt,
        member_id -> BigInt,
        created_by -> Nullable<BigInt>,
        series_id -> Nullable<BigInt>,
        start_at -> Timestamp,
        end_at -> Timestamp,
        block_start_at -> Timestamp,
        block_end_at -> Timestamp,
        quantity -> Integer,
        exclusive -> Bool,
        status -> Text,
        purpose -> Text,
        beneficiary -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
        cancelled_by -> Nullable<BigInt>,
        activity -> Text,
        sequence -> Integer,
        purpose_key -> Text,
    }
}

diesel::table! {
    employees (resource_id) {
        resource_id -> BigInt,
        contract_type -> Text,
        contract_end -> Nullable<Date>,
        birth_date -> Nullable<Date>,
        fee_permille -> Nullable<Integer>,
        fee_monthly_cents -> Nullable<BigInt>,
        skills -> Text,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    employee_members (resource_id, member_id) {
        resource_id -> BigInt,
        member_id -> BigInt,
    }
}

diesel::table! {
    quotas (id) {
        id -> BigInt,
        member_id -> Nullable<BigInt>,
        resource_id -> Nullable<BigInt>,
        kind -> Nullable<Text>,
        max_minutes_per_month -> Nullable<Integer>,
        max_future_bookings -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    month_closings (month) {
        month -> Text,
        closed_at -> Timestamp,
        closed_by -> Nullable<BigInt>,
        total_cents -> BigInt,
        previous_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    tariffs (resource_id, effective_from) {
        resource_id -> BigInt,
        effective_from -> Date,
        hourly_cents -> BigInt,
        daily_cap_cents -> Nullable<BigInt>,
        per_km_cents -> Nullable<BigInt>,
        billing_unit_minutes -> Integer,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pricing_coefficients (category, effective_from) {
        category -> Text,
        effective_from -> Date,
        coefficient_permille -> Integer,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    kind_pricing (kind) {
        kind -> Text,
        late_notice_minutes -> Nullable<Integer>,
        late_charged_permille -> Integer,
        free_minutes_per_month -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    costs (id) {
        id -> BigInt,
        month -> Text,
        label -> Text,
        amount_cents -> BigInt,
        resource_id -> Nullable<BigInt>,
        pool -> Nullable<Text>,
        split_key -> Text,
        recurring -> Bool,
        until_month -> Nullable<Text>,
        generated_from -> Nullable<BigInt>,
        deleted_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    adjustments (id) {
        id -> BigInt,
        month -> Text,
        member_id -> BigInt,
        label -> Text,
        amount_cents -> BigInt,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    statement_lines (month, member_id, position) {
        month -> Text,
        member_id -> BigInt,
        position -> Integer,
        member_name -> Text,
        source -> Text,
        resource_id -> Nullable<BigInt>,
        label -> Text,
        basis -> Text,
        quantity_milli -> BigInt,
        unit -> Text,
        unit_price_cents -> BigInt,
        amount_cents -> BigInt,
        refs -> Text,
    }
}

diesel::table! {
    month_usage (month, member_id, resource_id) {
        month -> Text,
        member_id -> BigInt,
        resource_id -> BigInt,
        minutes -> BigInt,
    }
}

diesel::table! {
    month_usage_state (month) {
        month -> Text,
        computed_at -> Timestamp,
    }
}

diesel::table! {
    month_reopenings (id) {
        id -> BigInt,
        month -> Text,
        reopened_by -> Nullable<BigInt>,
        reopened_at -> Timestamp,
        reason -> Text,
        statement_hash -> Text,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        event_key -> Text,
        kind -> Text,
        recipient -> Text,
        user_id -> Nullable<BigInt>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_settings (user_id) {
        user_id -> BigInt,
        muted -> Text,
        reminder_hours -> Nullable<Integer>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    feeds (id) {
        id -> BigInt,
        token -> Text,
        user_id -> BigInt,
        scope -> Text,
        scope_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(bookings -> resources (resource_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(notification_settings -> users (user_id));
diesel::joinable!(feeds -> users (user_id));
diesel::joinable!(bookings -> members (member_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> members (member_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(opening_hours -> resources (resource_id));
diesel::joinable!(closures -> resources (resource_id));
diesel::joinable!(employees -> resources (resource_id));
diesel::joinable!(employee_members -> members (member_id));

diesel::allow_tables_to_appear_in_same_query!(
    members,
    users,
    user_roles,
    memberships,
    sessions,
    api_tokens,
    login_throttles,
    audit_events,
    resources,
    opening_hours,
    closures,
    series,
    bookings,
    quotas,
    month_closings,
    idempotency_keys,
    employees,
    employee_members,
    tariffs,
    pricing_coefficients,
    kind_pricing,
    costs,
    adjustments,
    settings,
    statement_lines,
    month_reopenings,
    month_usage,
    month_usage_state,
    outbox,
    notification_settings,
    feeds,
    password_resets,
    rules_epoch,
    access_epoch,
);
