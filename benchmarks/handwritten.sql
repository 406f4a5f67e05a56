-- Baseline for benchmarks/run.py: the best plain SQL for the V2 tables (written by
-- benchmarks/write_handwritten.py from the spec). One pass per V1 table; the two groups
-- run in two sessions at once (both cores). Sections: prologue, group a, group b,
-- epilogue.
-- @section prologue
drop schema if exists bench_hand cascade;
create schema bench_hand;
-- @section a
-- V1 participant (mvpw1_61): one pass, 1 V2 table(s)
create table bench_hand."participant" ("id" bigint, "transaction_id" bigint, "agent_id" bigint, "user_id" bigint, "role" text, "split_pct" numeric, "amount" numeric, "paid" boolean, "paid_at" timestamptz, "status" text, "notes" text, "commission_type" text, "cap_contribution" numeric, "fee_amount" numeric, "tax_withheld" numeric, "approved_by_user_id" bigint, "approved_at" timestamptz, "invoice_number" text, "created_at" timestamptz, "created_by_user_id" bigint, "updated_by_user_id" bigint, "source_system" text, "external_id" text, "deleted" boolean, "deleted_at" timestamptz, "version" bigint);
with src as materialized (
SELECT
  "v1"."id",
  "xano_fn".to_bigint("r"."transaction_id") AS "participant__transaction_id",
  "xano_fn".to_bigint("r"."agent_id") AS "participant__agent_id",
  "xano_fn".to_bigint("r"."user_id") AS "participant__user_id",
  "xano_fn".to_text("r"."role") AS "participant__role",
  "xano_fn".to_numeric("r"."split_pct") AS "participant__split_pct",
  "xano_fn".to_numeric("r"."amount") AS "participant__amount",
  "xano_fn".to_boolean("r"."paid") AS "participant__paid",
  "xano_fn".epoch_ms_to_timestamptz("r"."paid_at") AS "participant__paid_at",
  "xano_fn".to_text("r"."status") AS "participant__status",
  "xano_fn".to_text("r"."notes") AS "participant__notes",
  "xano_fn".to_text("r"."commission_type") AS "participant__commission_type",
  "xano_fn".to_numeric("r"."cap_contribution") AS "participant__cap_contribution",
  "xano_fn".to_numeric("r"."fee_amount") AS "participant__fee_amount",
  "xano_fn".to_numeric("r"."tax_withheld") AS "participant__tax_withheld",
  "xano_fn".to_bigint("r"."approved_by_user_id") AS "participant__approved_by_user_id",
  "xano_fn".epoch_ms_to_timestamptz("r"."approved_at") AS "participant__approved_at",
  "xano_fn".trim_text("r"."invoice_number") AS "participant__invoice_number",
  "xano_fn".epoch_ms_to_timestamptz("r"."created_at") AS "participant__created_at",
  "xano_fn".to_bigint("r"."created_by_user_id") AS "participant__created_by_user_id",
  "xano_fn".to_bigint("r"."updated_by_user_id") AS "participant__updated_by_user_id",
  "xano_fn".to_text("r"."source_system") AS "participant__source_system",
  "xano_fn".to_text("r"."external_id") AS "participant__external_id",
  "xano_fn".to_boolean("r"."deleted") AS "participant__deleted",
  "xano_fn".epoch_ms_to_timestamptz("r"."deleted_at") AS "participant__deleted_at",
  "xano_fn".to_bigint("r"."version") AS "participant__version"
FROM xano_v1."mvpw1_61" AS "v1"
LEFT JOIN LATERAL JSONB_TO_RECORD(CASE WHEN JSONB_TYPEOF("v1"."xdo") = 'object' THEN "v1"."xdo" END) AS "r"(
  "transaction_id" JSONB,
  "agent_id" JSONB,
  "user_id" JSONB,
  "role" JSONB,
  "split_pct" JSONB,
  "amount" JSONB,
  "paid" JSONB,
  "paid_at" JSONB,
  "status" JSONB,
  "notes" JSONB,
  "commission_type" JSONB,
  "cap_contribution" JSONB,
  "fee_amount" JSONB,
  "tax_withheld" JSONB,
  "approved_by_user_id" JSONB,
  "approved_at" JSONB,
  "invoice_number" JSONB,
  "created_at" JSONB,
  "created_by_user_id" JSONB,
  "updated_by_user_id" JSONB,
  "source_system" JSONB,
  "external_id" JSONB,
  "deleted" JSONB,
  "deleted_at" JSONB,
  "version" JSONB
)
  ON TRUE
),
i0 as (
    insert into bench_hand."participant" select src.id, src."participant__transaction_id", src."participant__agent_id", src."participant__user_id", src."participant__role", src."participant__split_pct", src."participant__amount", src."participant__paid", src."participant__paid_at", src."participant__status", src."participant__notes", src."participant__commission_type", src."participant__cap_contribution", src."participant__fee_amount", src."participant__tax_withheld", src."participant__approved_by_user_id", src."participant__approved_at", src."participant__invoice_number", src."participant__created_at", src."participant__created_by_user_id", src."participant__updated_by_user_id", src."participant__source_system", src."participant__external_id", src."participant__deleted", src."participant__deleted_at", src."participant__version" from src
)
select 1;
alter table bench_hand."participant" add primary key (id);

-- @section b
-- V1 participant_paid (mvpw1_62): one pass, 1 V2 table(s)
create table bench_hand."participant_paid" ("id" bigint, "participant_id" bigint, "transaction_id" bigint, "amount" numeric, "fee_amount" numeric, "net_amount" numeric, "paid_at" timestamptz, "cleared_at" timestamptz, "method" text, "reference" text, "stripe_payment_id" text, "check_number" text, "currency" text, "payout_account_last4" text, "batch_id" text, "status" text, "approved_by_user_id" bigint, "memo" text, "created_at" timestamptz, "created_by_user_id" bigint, "updated_by_user_id" bigint, "source_system" text, "external_id" text, "deleted" boolean, "deleted_at" timestamptz, "version" bigint);
with src as materialized (
SELECT
  "v1"."id",
  "xano_fn".to_bigint("r"."participant_id") AS "participant_paid__participant_id",
  "xano_fn".to_bigint("r"."transaction_id") AS "participant_paid__transaction_id",
  "xano_fn".to_numeric("r"."amount") AS "participant_paid__amount",
  "xano_fn".to_numeric("r"."fee_amount") AS "participant_paid__fee_amount",
  "xano_fn".to_numeric("r"."net_amount") AS "participant_paid__net_amount",
  "xano_fn".epoch_ms_to_timestamptz("r"."paid_at") AS "participant_paid__paid_at",
  "xano_fn".epoch_ms_to_timestamptz("r"."cleared_at") AS "participant_paid__cleared_at",
  "xano_fn".to_text("r"."method") AS "participant_paid__method",
  "xano_fn".trim_text("r"."reference") AS "participant_paid__reference",
  "xano_fn".to_text("r"."stripe_payment_id") AS "participant_paid__stripe_payment_id",
  "xano_fn".trim_text("r"."check_number") AS "participant_paid__check_number",
  "xano_fn".to_text("r"."currency") AS "participant_paid__currency",
  "xano_fn".to_text("r"."payout_account_last4") AS "participant_paid__payout_account_last4",
  "xano_fn".trim_text("r"."batch_id") AS "participant_paid__batch_id",
  "xano_fn".to_text("r"."status") AS "participant_paid__status",
  "xano_fn".to_bigint("r"."approved_by_user_id") AS "participant_paid__approved_by_user_id",
  "xano_fn".to_text("r"."memo") AS "participant_paid__memo",
  "xano_fn".epoch_ms_to_timestamptz("r"."created_at") AS "participant_paid__created_at",
  "xano_fn".to_bigint("r"."created_by_user_id") AS "participant_paid__created_by_user_id",
  "xano_fn".to_bigint("r"."updated_by_user_id") AS "participant_paid__updated_by_user_id",
  "xano_fn".to_text("r"."source_system") AS "participant_paid__source_system",
  "xano_fn".to_text("r"."external_id") AS "participant_paid__external_id",
  "xano_fn".to_boolean("r"."deleted") AS "participant_paid__deleted",
  "xano_fn".epoch_ms_to_timestamptz("r"."deleted_at") AS "participant_paid__deleted_at",
  "xano_fn".to_bigint("r"."version") AS "participant_paid__version"
FROM xano_v1."mvpw1_62" AS "v1"
LEFT JOIN LATERAL JSONB_TO_RECORD(CASE WHEN JSONB_TYPEOF("v1"."xdo") = 'object' THEN "v1"."xdo" END) AS "r"(
  "participant_id" JSONB,
  "transaction_id" JSONB,
  "amount" JSONB,
  "fee_amount" JSONB,
  "net_amount" JSONB,
  "paid_at" JSONB,
  "cleared_at" JSONB,
  "method" JSONB,
  "reference" JSONB,
  "stripe_payment_id" JSONB,
  "check_number" JSONB,
  "currency" JSONB,
  "payout_account_last4" JSONB,
  "batch_id" JSONB,
  "status" JSONB,
  "approved_by_user_id" JSONB,
  "memo" JSONB,
  "created_at" JSONB,
  "created_by_user_id" JSONB,
  "updated_by_user_id" JSONB,
  "source_system" JSONB,
  "external_id" JSONB,
  "deleted" JSONB,
  "deleted_at" JSONB,
  "version" JSONB
)
  ON TRUE
),
i0 as (
    insert into bench_hand."participant_paid" select src.id, src."participant_paid__participant_id", src."participant_paid__transaction_id", src."participant_paid__amount", src."participant_paid__fee_amount", src."participant_paid__net_amount", src."participant_paid__paid_at", src."participant_paid__cleared_at", src."participant_paid__method", src."participant_paid__reference", src."participant_paid__stripe_payment_id", src."participant_paid__check_number", src."participant_paid__currency", src."participant_paid__payout_account_last4", src."participant_paid__batch_id", src."participant_paid__status", src."participant_paid__approved_by_user_id", src."participant_paid__memo", src."participant_paid__created_at", src."participant_paid__created_by_user_id", src."participant_paid__updated_by_user_id", src."participant_paid__source_system", src."participant_paid__external_id", src."participant_paid__deleted", src."participant_paid__deleted_at", src."participant_paid__version" from src
)
select 1;
alter table bench_hand."participant_paid" add primary key (id);

-- V1 network (mvpw1_48): one pass, 3 V2 table(s)
create table bench_hand."network_member" ("id" bigint, "user_id" bigint, "member_user_id" bigint, "status" text, "tier" text, "rank" bigint, "invite_code" text, "joined_at" timestamptz, "last_activity_at" timestamptz, "created_at" timestamptz, "updated_at" timestamptz, "created_by_user_id" bigint, "updated_by_user_id" bigint, "source_system" text, "external_id" text, "deleted" boolean, "deleted_at" timestamptz, "version" bigint);
create table bench_hand."network_hierarchy" ("id" bigint, "network_id" bigint, "sponsor_user_id" bigint, "parent_network_id" bigint, "level" bigint, "path" text);
create table bench_hand."network_user_prefs" ("id" bigint, "network_id" bigint, "pref_email_digest" boolean, "pref_show_downline" boolean, "pref_notify_new_member" boolean, "pref_digest_frequency" text);
with src as materialized (
SELECT
  "v1"."id",
  "xano_fn".to_bigint("r"."user_id") AS "network_member__user_id",
  "xano_fn".to_bigint("r"."member_user_id") AS "network_member__member_user_id",
  "xano_fn".to_text("r"."status") AS "network_member__status",
  "xano_fn".to_text("r"."tier") AS "network_member__tier",
  "xano_fn".to_bigint("r"."rank") AS "network_member__rank",
  "xano_fn".trim_text("r"."invite_code") AS "network_member__invite_code",
  "xano_fn".epoch_ms_to_timestamptz("r"."joined_at") AS "network_member__joined_at",
  "xano_fn".epoch_ms_to_timestamptz("r"."last_activity_at") AS "network_member__last_activity_at",
  "xano_fn".epoch_ms_to_timestamptz("r"."created_at") AS "network_member__created_at",
  "xano_fn".epoch_ms_to_timestamptz("r"."updated_at") AS "network_member__updated_at",
  "xano_fn".to_bigint("r"."created_by_user_id") AS "network_member__created_by_user_id",
  "xano_fn".to_bigint("r"."updated_by_user_id") AS "network_member__updated_by_user_id",
  "xano_fn".to_text("r"."source_system") AS "network_member__source_system",
  "xano_fn".to_text("r"."external_id") AS "network_member__external_id",
  "xano_fn".to_boolean("r"."deleted") AS "network_member__deleted",
  "xano_fn".epoch_ms_to_timestamptz("r"."deleted_at") AS "network_member__deleted_at",
  "xano_fn".to_bigint("r"."version") AS "network_member__version",
  "xano_fn".to_bigint("r"."sponsor_user_id") AS "network_hierarchy__sponsor_user_id",
  "xano_fn".to_bigint("r"."parent_network_id") AS "network_hierarchy__parent_network_id",
  "xano_fn".to_bigint("r"."level") AS "network_hierarchy__level",
  "xano_fn".to_text("r"."path") AS "network_hierarchy__path",
  "xano_fn".to_boolean("r"."pref_email_digest") AS "network_user_prefs__pref_email_digest",
  "xano_fn".to_boolean("r"."pref_show_downline") AS "network_user_prefs__pref_show_downline",
  "xano_fn".to_boolean("r"."pref_notify_new_member") AS "network_user_prefs__pref_notify_new_member",
  "xano_fn".to_text("r"."pref_digest_frequency") AS "network_user_prefs__pref_digest_frequency"
FROM xano_v1."mvpw1_48" AS "v1"
LEFT JOIN LATERAL JSONB_TO_RECORD(CASE WHEN JSONB_TYPEOF("v1"."xdo") = 'object' THEN "v1"."xdo" END) AS "r"(
  "user_id" JSONB,
  "member_user_id" JSONB,
  "status" JSONB,
  "tier" JSONB,
  "rank" JSONB,
  "invite_code" JSONB,
  "joined_at" JSONB,
  "last_activity_at" JSONB,
  "created_at" JSONB,
  "updated_at" JSONB,
  "created_by_user_id" JSONB,
  "updated_by_user_id" JSONB,
  "source_system" JSONB,
  "external_id" JSONB,
  "deleted" JSONB,
  "deleted_at" JSONB,
  "version" JSONB,
  "sponsor_user_id" JSONB,
  "parent_network_id" JSONB,
  "level" JSONB,
  "path" JSONB,
  "pref_email_digest" JSONB,
  "pref_show_downline" JSONB,
  "pref_notify_new_member" JSONB,
  "pref_digest_frequency" JSONB
)
  ON TRUE
),
i0 as (
    insert into bench_hand."network_member" select src.id, src."network_member__user_id", src."network_member__member_user_id", src."network_member__status", src."network_member__tier", src."network_member__rank", src."network_member__invite_code", src."network_member__joined_at", src."network_member__last_activity_at", src."network_member__created_at", src."network_member__updated_at", src."network_member__created_by_user_id", src."network_member__updated_by_user_id", src."network_member__source_system", src."network_member__external_id", src."network_member__deleted", src."network_member__deleted_at", src."network_member__version" from src
),
i1 as (
    insert into bench_hand."network_hierarchy" select src.id, src.id, src."network_hierarchy__sponsor_user_id", src."network_hierarchy__parent_network_id", src."network_hierarchy__level", src."network_hierarchy__path" from src
),
i2 as (
    insert into bench_hand."network_user_prefs" select src.id, src.id, src."network_user_prefs__pref_email_digest", src."network_user_prefs__pref_show_downline", src."network_user_prefs__pref_notify_new_member", src."network_user_prefs__pref_digest_frequency" from src
)
select 1;
alter table bench_hand."network_member" add primary key (id);
alter table bench_hand."network_hierarchy" add primary key (id);
alter table bench_hand."network_user_prefs" add primary key (id);

-- V1 transaction (mvpw1_57): one pass, 5 V2 table(s)
create table bench_hand."transaction" ("id" bigint, "agent_id" bigint, "address" text, "city" text, "state" text, "zip" text, "status" text, "type" text, "closed" boolean, "mls_number" text, "source" text, "notes" text, "contract_date" date, "close_date" date, "created_at" timestamptz, "updated_at" timestamptz, "created_by_user_id" bigint, "updated_by_user_id" bigint, "source_system" text, "external_id" text, "deleted" boolean, "deleted_at" timestamptz, "version" bigint);
create table bench_hand."transaction_participants" ("id" bigint, "transaction_id" bigint, "position" bigint, "agent_id" bigint, "role" text, "split_pct" numeric);
create table bench_hand."transaction_financials" ("id" bigint, "transaction_id" bigint, "list_price" numeric, "sale_price" numeric, "gross_commission" numeric, "net_commission" numeric, "brokerage_fee" numeric, "referral_fee" numeric, "escrow_amount" numeric, "commission_pct" numeric);
create table bench_hand."transaction_history" ("id" bigint, "transaction_id" bigint, "position" bigint, "event" text, "at" timestamptz, "by_user_id" bigint);
create table bench_hand."transaction_tags" ("id" bigint, "transaction_id" bigint, "position" bigint, "tag" text);
with src as materialized (
SELECT
  "v1"."id",
  "xano_fn".to_bigint("r"."agent_id") AS "transaction__agent_id",
  "xano_fn".trim_text("r"."address") AS "transaction__address",
  "xano_fn".trim_text("r"."city") AS "transaction__city",
  "xano_fn".trim_text("r"."state") AS "transaction__state",
  "xano_fn".trim_text("r"."zip") AS "transaction__zip",
  "xano_fn".to_text("r"."status") AS "transaction__status",
  "xano_fn".to_text("r"."type") AS "transaction__type",
  "xano_fn".to_boolean("r"."closed") AS "transaction__closed",
  "xano_fn".trim_text("r"."mls_number") AS "transaction__mls_number",
  "xano_fn".to_text("r"."source") AS "transaction__source",
  "xano_fn".to_text("r"."notes") AS "transaction__notes",
  "xano_fn".to_date("r"."contract_date") AS "transaction__contract_date",
  "xano_fn".to_date("r"."close_date") AS "transaction__close_date",
  "xano_fn".epoch_ms_to_timestamptz("r"."created_at") AS "transaction__created_at",
  "xano_fn".epoch_ms_to_timestamptz("r"."updated_at") AS "transaction__updated_at",
  "xano_fn".to_bigint("r"."created_by_user_id") AS "transaction__created_by_user_id",
  "xano_fn".to_bigint("r"."updated_by_user_id") AS "transaction__updated_by_user_id",
  "xano_fn".to_text("r"."source_system") AS "transaction__source_system",
  "xano_fn".to_text("r"."external_id") AS "transaction__external_id",
  "xano_fn".to_boolean("r"."deleted") AS "transaction__deleted",
  "xano_fn".epoch_ms_to_timestamptz("r"."deleted_at") AS "transaction__deleted_at",
  "xano_fn".to_bigint("r"."version") AS "transaction__version",
  "xano_fn".to_numeric("r"."list_price") AS "transaction_financials__list_price",
  "xano_fn".to_numeric("r"."sale_price") AS "transaction_financials__sale_price",
  "xano_fn".to_numeric("r"."gross_commission") AS "transaction_financials__gross_commission",
  "xano_fn".to_numeric("r"."net_commission") AS "transaction_financials__net_commission",
  "xano_fn".to_numeric("r"."brokerage_fee") AS "transaction_financials__brokerage_fee",
  "xano_fn".to_numeric("r"."referral_fee") AS "transaction_financials__referral_fee",
  "xano_fn".to_numeric("r"."escrow_amount") AS "transaction_financials__escrow_amount",
  "xano_fn".to_numeric("r"."commission_pct") AS "transaction_financials__commission_pct",
  "r"."participants" AS "array__transaction_participants",
  "r"."history" AS "array__transaction_history",
  "r"."tags" AS "array__transaction_tags"
FROM xano_v1."mvpw1_57" AS "v1"
LEFT JOIN LATERAL JSONB_TO_RECORD(CASE WHEN JSONB_TYPEOF("v1"."xdo") = 'object' THEN "v1"."xdo" END) AS "r"(
  "agent_id" JSONB,
  "address" JSONB,
  "city" JSONB,
  "state" JSONB,
  "zip" JSONB,
  "status" JSONB,
  "type" JSONB,
  "closed" JSONB,
  "mls_number" JSONB,
  "source" JSONB,
  "notes" JSONB,
  "contract_date" JSONB,
  "close_date" JSONB,
  "created_at" JSONB,
  "updated_at" JSONB,
  "created_by_user_id" JSONB,
  "updated_by_user_id" JSONB,
  "source_system" JSONB,
  "external_id" JSONB,
  "deleted" JSONB,
  "deleted_at" JSONB,
  "version" JSONB,
  "list_price" JSONB,
  "sale_price" JSONB,
  "gross_commission" JSONB,
  "net_commission" JSONB,
  "brokerage_fee" JSONB,
  "referral_fee" JSONB,
  "escrow_amount" JSONB,
  "commission_pct" JSONB,
  "participants" JSONB,
  "history" JSONB,
  "tags" JSONB
)
  ON TRUE
),
i0 as (
    insert into bench_hand."transaction" select src.id, src."transaction__agent_id", src."transaction__address", src."transaction__city", src."transaction__state", src."transaction__zip", src."transaction__status", src."transaction__type", src."transaction__closed", src."transaction__mls_number", src."transaction__source", src."transaction__notes", src."transaction__contract_date", src."transaction__close_date", src."transaction__created_at", src."transaction__updated_at", src."transaction__created_by_user_id", src."transaction__updated_by_user_id", src."transaction__source_system", src."transaction__external_id", src."transaction__deleted", src."transaction__deleted_at", src."transaction__version" from src
),
i1 as (
    insert into bench_hand."transaction_financials" select src.id, src.id, src."transaction_financials__list_price", src."transaction_financials__sale_price", src."transaction_financials__gross_commission", src."transaction_financials__net_commission", src."transaction_financials__brokerage_fee", src."transaction_financials__referral_fee", src."transaction_financials__escrow_amount", src."transaction_financials__commission_pct" from src
),
i2 as (
    insert into bench_hand."transaction_participants" select src.id * 1000000 + e.ord, src.id, e.ord, "xano_fn".to_bigint("e"."val" -> 'agent_id'), "xano_fn".to_text("e"."val" -> 'role'), "xano_fn".to_numeric("e"."val" -> 'split_pct') from src cross join lateral jsonb_array_elements(case when jsonb_typeof(src."array__transaction_participants") = 'array' then src."array__transaction_participants" end) with ordinality as e(val, ord) where e.ord < 1000000
),
i3 as (
    insert into bench_hand."transaction_history" select src.id * 1000000 + e.ord, src.id, e.ord, "xano_fn".to_text("e"."val" -> 'event'), "xano_fn".epoch_ms_to_timestamptz("e"."val" -> 'at'), "xano_fn".to_bigint("e"."val" -> 'by_user_id') from src cross join lateral jsonb_array_elements(case when jsonb_typeof(src."array__transaction_history") = 'array' then src."array__transaction_history" end) with ordinality as e(val, ord) where e.ord < 1000000
),
i4 as (
    insert into bench_hand."transaction_tags" select src.id * 1000000 + e.ord, src.id, e.ord, "xano_fn".trim_text("e"."val") from src cross join lateral jsonb_array_elements(case when jsonb_typeof(src."array__transaction_tags") = 'array' then src."array__transaction_tags" end) with ordinality as e(val, ord) where e.ord < 1000000
)
select 1;
alter table bench_hand."transaction" add primary key (id);
alter table bench_hand."transaction_participants" add primary key (id);
alter table bench_hand."transaction_financials" add primary key (id);
alter table bench_hand."transaction_history" add primary key (id);
alter table bench_hand."transaction_tags" add primary key (id);

-- V1 agent (mvpw1_52): one pass, 6 V2 table(s)
create table bench_hand."agent" ("id" bigint, "user_id" bigint, "name" text, "email" text, "license_number" text, "license_state" text, "status" text, "join_date" date, "photo" jsonb, "photo_url" text, "notes" text, "created_at" timestamptz, "updated_at" timestamptz, "created_by_user_id" bigint, "updated_by_user_id" bigint, "source_system" text, "external_id" text, "deleted" boolean, "deleted_at" timestamptz, "version" bigint);
create table bench_hand."agent_cap_data" ("id" bigint, "agent_id" bigint, "cap_amount" numeric, "cap_paid" numeric, "cap_year" bigint, "cap_reset_date" date);
create table bench_hand."agent_commission" ("id" bigint, "agent_id" bigint, "commission_split" numeric, "commission_plan" text, "commission_override" numeric);
create table bench_hand."agent_performance" ("id" bigint, "agent_id" bigint, "ytd_volume" numeric, "ytd_units" bigint, "avg_days_to_close" numeric, "rank" bigint);
create table bench_hand."agent_hierarchy" ("id" bigint, "agent_id" bigint, "sponsor_agent_id" bigint, "mentor_agent_id" bigint, "team_id" bigint, "hierarchy_level" bigint);
create table bench_hand."agent_rezen" ("id" bigint, "agent_id" bigint, "rezen_id" text, "rezen_status" text, "rezen_synced_at" timestamptz, "rezen_payload" jsonb);
with src as materialized (
SELECT
  "v1"."id",
  "xano_fn".to_bigint("r"."user_id") AS "agent__user_id",
  "xano_fn".trim_text("r"."name") AS "agent__name",
  "xano_fn".lower_trim("r"."email") AS "agent__email",
  "xano_fn".trim_text("r"."license_number") AS "agent__license_number",
  "xano_fn".to_text("r"."license_state") AS "agent__license_state",
  "xano_fn".to_text("r"."status") AS "agent__status",
  "xano_fn".to_date("r"."join_date") AS "agent__join_date",
  "xano_fn".to_jsonb_value("r"."photo") AS "agent__photo",
  "xano_fn".image_url("r"."photo") AS "agent__photo_url",
  "xano_fn".to_text("r"."notes") AS "agent__notes",
  "xano_fn".epoch_ms_to_timestamptz("r"."created_at") AS "agent__created_at",
  "xano_fn".epoch_ms_to_timestamptz("r"."updated_at") AS "agent__updated_at",
  "xano_fn".to_bigint("r"."created_by_user_id") AS "agent__created_by_user_id",
  "xano_fn".to_bigint("r"."updated_by_user_id") AS "agent__updated_by_user_id",
  "xano_fn".to_text("r"."source_system") AS "agent__source_system",
  "xano_fn".to_text("r"."external_id") AS "agent__external_id",
  "xano_fn".to_boolean("r"."deleted") AS "agent__deleted",
  "xano_fn".epoch_ms_to_timestamptz("r"."deleted_at") AS "agent__deleted_at",
  "xano_fn".to_bigint("r"."version") AS "agent__version",
  "xano_fn".to_numeric("r"."cap_amount") AS "agent_cap_data__cap_amount",
  "xano_fn".to_numeric("r"."cap_paid") AS "agent_cap_data__cap_paid",
  "xano_fn".to_bigint("r"."cap_year") AS "agent_cap_data__cap_year",
  "xano_fn".to_date("r"."cap_reset_date") AS "agent_cap_data__cap_reset_date",
  "xano_fn".to_numeric("r"."commission_split") AS "agent_commission__commission_split",
  "xano_fn".to_text("r"."commission_plan") AS "agent_commission__commission_plan",
  "xano_fn".to_numeric("r"."commission_override") AS "agent_commission__commission_override",
  "xano_fn".to_numeric("r"."ytd_volume") AS "agent_performance__ytd_volume",
  "xano_fn".to_bigint("r"."ytd_units") AS "agent_performance__ytd_units",
  "xano_fn".to_numeric("r"."avg_days_to_close") AS "agent_performance__avg_days_to_close",
  "xano_fn".to_bigint("r"."rank") AS "agent_performance__rank",
  "xano_fn".to_bigint("r"."sponsor_agent_id") AS "agent_hierarchy__sponsor_agent_id",
  "xano_fn".to_bigint("r"."mentor_agent_id") AS "agent_hierarchy__mentor_agent_id",
  "xano_fn".to_bigint("r"."team_id") AS "agent_hierarchy__team_id",
  "xano_fn".to_bigint("r"."hierarchy_level") AS "agent_hierarchy__hierarchy_level",
  "xano_fn".to_text("r"."rezen_id") AS "agent_rezen__rezen_id",
  "xano_fn".to_text("r"."rezen_status") AS "agent_rezen__rezen_status",
  "xano_fn".epoch_ms_to_timestamptz("r"."rezen_synced_at") AS "agent_rezen__rezen_synced_at",
  "xano_fn".to_jsonb_value("r"."rezen_payload") AS "agent_rezen__rezen_payload"
FROM xano_v1."mvpw1_52" AS "v1"
LEFT JOIN LATERAL JSONB_TO_RECORD(CASE WHEN JSONB_TYPEOF("v1"."xdo") = 'object' THEN "v1"."xdo" END) AS "r"(
  "user_id" JSONB,
  "name" JSONB,
  "email" JSONB,
  "license_number" JSONB,
  "license_state" JSONB,
  "status" JSONB,
  "join_date" JSONB,
  "photo" JSONB,
  "notes" JSONB,
  "created_at" JSONB,
  "updated_at" JSONB,
  "created_by_user_id" JSONB,
  "updated_by_user_id" JSONB,
  "source_system" JSONB,
  "external_id" JSONB,
  "deleted" JSONB,
  "deleted_at" JSONB,
  "version" JSONB,
  "cap_amount" JSONB,
  "cap_paid" JSONB,
  "cap_year" JSONB,
  "cap_reset_date" JSONB,
  "commission_split" JSONB,
  "commission_plan" JSONB,
  "commission_override" JSONB,
  "ytd_volume" JSONB,
  "ytd_units" JSONB,
  "avg_days_to_close" JSONB,
  "rank" JSONB,
  "sponsor_agent_id" JSONB,
  "mentor_agent_id" JSONB,
  "team_id" JSONB,
  "hierarchy_level" JSONB,
  "rezen_id" JSONB,
  "rezen_status" JSONB,
  "rezen_synced_at" JSONB,
  "rezen_payload" JSONB
)
  ON TRUE
),
i0 as (
    insert into bench_hand."agent" select src.id, src."agent__user_id", src."agent__name", src."agent__email", src."agent__license_number", src."agent__license_state", src."agent__status", src."agent__join_date", src."agent__photo", src."agent__photo_url", src."agent__notes", src."agent__created_at", src."agent__updated_at", src."agent__created_by_user_id", src."agent__updated_by_user_id", src."agent__source_system", src."agent__external_id", src."agent__deleted", src."agent__deleted_at", src."agent__version" from src
),
i1 as (
    insert into bench_hand."agent_cap_data" select src.id, src.id, src."agent_cap_data__cap_amount", src."agent_cap_data__cap_paid", src."agent_cap_data__cap_year", src."agent_cap_data__cap_reset_date" from src
),
i2 as (
    insert into bench_hand."agent_commission" select src.id, src.id, src."agent_commission__commission_split", src."agent_commission__commission_plan", src."agent_commission__commission_override" from src
),
i3 as (
    insert into bench_hand."agent_performance" select src.id, src.id, src."agent_performance__ytd_volume", src."agent_performance__ytd_units", src."agent_performance__avg_days_to_close", src."agent_performance__rank" from src
),
i4 as (
    insert into bench_hand."agent_hierarchy" select src.id, src.id, src."agent_hierarchy__sponsor_agent_id", src."agent_hierarchy__mentor_agent_id", src."agent_hierarchy__team_id", src."agent_hierarchy__hierarchy_level" from src
),
i5 as (
    insert into bench_hand."agent_rezen" select src.id, src.id, src."agent_rezen__rezen_id", src."agent_rezen__rezen_status", src."agent_rezen__rezen_synced_at", src."agent_rezen__rezen_payload" from src
)
select 1;
alter table bench_hand."agent" add primary key (id);
alter table bench_hand."agent_cap_data" add primary key (id);
alter table bench_hand."agent_commission" add primary key (id);
alter table bench_hand."agent_performance" add primary key (id);
alter table bench_hand."agent_hierarchy" add primary key (id);
alter table bench_hand."agent_rezen" add primary key (id);

-- V1 user (mvpw1_41): one pass, 7 V2 table(s)
create table bench_hand."user" ("id" bigint, "email" text, "first_name" text, "last_name" text, "cell_phone" text, "avatar" jsonb, "active" boolean, "avatar_url" text, "birthday" date, "last_login" timestamptz, "team_id" bigint, "created_at" timestamptz, "updated_at" timestamptz, "created_by_user_id" bigint, "updated_by_user_id" bigint, "source_system" text, "external_id" text, "deleted" boolean, "deleted_at" timestamptz, "version" bigint);
create table bench_hand."user_credentials" ("id" bigint, "user_id" bigint, "password" text, "api_key" text, "google_sub" text);
create table bench_hand."user_subscriptions" ("id" bigint, "user_id" bigint, "stripe_customer_id" text, "subscription_type" text, "subscription_status" text, "subscription_renews_at" timestamptz);
create table bench_hand."user_settings" ("id" bigint, "user_id" bigint, "privacy_mode" boolean, "daily_dash_daily" boolean);
create table bench_hand."user_roles" ("id" bigint, "user_id" bigint, "is_team_owner" boolean, "is_leader" boolean, "is_director" boolean, "is_mentor" boolean);
create table bench_hand."user_preferences" ("id" bigint, "user_id" bigint, "timezone" text, "theme" text, "language" text, "notify_email" boolean, "notify_sms" boolean, "dashboard_layout" jsonb);
create table bench_hand."user_onboarding" ("id" bigint, "user_id" bigint, "onboarding_step" bigint, "onboarding_completed" boolean, "onboarding_completed_at" timestamptz, "welcome_video_watched" boolean);
with src as materialized (
SELECT
  "v1"."id",
  "xano_fn".lower_trim("r"."email") AS "user__email",
  "xano_fn".trim_text("r"."first_name") AS "user__first_name",
  "xano_fn".trim_text("r"."last_name") AS "user__last_name",
  "xano_fn".trim_text("r"."cell_phone") AS "user__cell_phone",
  "xano_fn".to_jsonb_value("r"."avatar") AS "user__avatar",
  "xano_fn".to_boolean("r"."active") AS "user__active",
  "xano_fn".image_url("r"."avatar") AS "user__avatar_url",
  "xano_fn".to_date("r"."birthday") AS "user__birthday",
  "xano_fn".epoch_ms_to_timestamptz("r"."last_login") AS "user__last_login",
  "xano_fn".to_bigint("r"."team_id") AS "user__team_id",
  "xano_fn".epoch_ms_to_timestamptz("r"."created_at") AS "user__created_at",
  "xano_fn".epoch_ms_to_timestamptz("r"."updated_at") AS "user__updated_at",
  "xano_fn".to_bigint("r"."created_by_user_id") AS "user__created_by_user_id",
  "xano_fn".to_bigint("r"."updated_by_user_id") AS "user__updated_by_user_id",
  "xano_fn".to_text("r"."source_system") AS "user__source_system",
  "xano_fn".to_text("r"."external_id") AS "user__external_id",
  "xano_fn".to_boolean("r"."deleted") AS "user__deleted",
  "xano_fn".epoch_ms_to_timestamptz("r"."deleted_at") AS "user__deleted_at",
  "xano_fn".to_bigint("r"."version") AS "user__version",
  "xano_fn".to_text("r"."password") AS "user_credentials__password",
  "xano_fn".to_text("r"."api_key") AS "user_credentials__api_key",
  "xano_fn".to_text("r"."google_sub") AS "user_credentials__google_sub",
  "xano_fn".to_text("r"."stripe_customer_id") AS "user_subscriptions__stripe_customer_id",
  "xano_fn".to_text("r"."subscription_type") AS "user_subscriptions__subscription_type",
  "xano_fn".to_text("r"."subscription_status") AS "user_subscriptions__subscription_status",
  "xano_fn".epoch_ms_to_timestamptz("r"."subscription_renews_at") AS "user_subscriptions__subscription_renews_at",
  "xano_fn".to_boolean("r"."privacy_mode") AS "user_settings__privacy_mode",
  "xano_fn".to_boolean("r"."daily_dash_daily") AS "user_settings__daily_dash_daily",
  "xano_fn".to_boolean("r"."is_team_owner") AS "user_roles__is_team_owner",
  "xano_fn".to_boolean("r"."is_leader") AS "user_roles__is_leader",
  "xano_fn".to_boolean("r"."is_director") AS "user_roles__is_director",
  "xano_fn".to_boolean("r"."is_mentor") AS "user_roles__is_mentor",
  "xano_fn".to_text("r"."timezone") AS "user_preferences__timezone",
  "xano_fn".to_text("r"."theme") AS "user_preferences__theme",
  "xano_fn".to_text("r"."language") AS "user_preferences__language",
  "xano_fn".to_boolean("r"."notify_email") AS "user_preferences__notify_email",
  "xano_fn".to_boolean("r"."notify_sms") AS "user_preferences__notify_sms",
  "xano_fn".to_jsonb_value("r"."dashboard_layout") AS "user_preferences__dashboard_layout",
  "xano_fn".to_bigint("r"."onboarding_step") AS "user_onboarding__onboarding_step",
  "xano_fn".to_boolean("r"."onboarding_completed") AS "user_onboarding__onboarding_completed",
  "xano_fn".epoch_ms_to_timestamptz("r"."onboarding_completed_at") AS "user_onboarding__onboarding_completed_at",
  "xano_fn".to_boolean("r"."welcome_video_watched") AS "user_onboarding__welcome_video_watched"
FROM xano_v1."mvpw1_41" AS "v1"
LEFT JOIN LATERAL JSONB_TO_RECORD(CASE WHEN JSONB_TYPEOF("v1"."xdo") = 'object' THEN "v1"."xdo" END) AS "r"(
  "email" JSONB,
  "first_name" JSONB,
  "last_name" JSONB,
  "cell_phone" JSONB,
  "avatar" JSONB,
  "active" JSONB,
  "birthday" JSONB,
  "last_login" JSONB,
  "team_id" JSONB,
  "created_at" JSONB,
  "updated_at" JSONB,
  "created_by_user_id" JSONB,
  "updated_by_user_id" JSONB,
  "source_system" JSONB,
  "external_id" JSONB,
  "deleted" JSONB,
  "deleted_at" JSONB,
  "version" JSONB,
  "password" JSONB,
  "api_key" JSONB,
  "google_sub" JSONB,
  "stripe_customer_id" JSONB,
  "subscription_type" JSONB,
  "subscription_status" JSONB,
  "subscription_renews_at" JSONB,
  "privacy_mode" JSONB,
  "daily_dash_daily" JSONB,
  "is_team_owner" JSONB,
  "is_leader" JSONB,
  "is_director" JSONB,
  "is_mentor" JSONB,
  "timezone" JSONB,
  "theme" JSONB,
  "language" JSONB,
  "notify_email" JSONB,
  "notify_sms" JSONB,
  "dashboard_layout" JSONB,
  "onboarding_step" JSONB,
  "onboarding_completed" JSONB,
  "onboarding_completed_at" JSONB,
  "welcome_video_watched" JSONB
)
  ON TRUE
),
i0 as (
    insert into bench_hand."user" select src.id, src."user__email", src."user__first_name", src."user__last_name", src."user__cell_phone", src."user__avatar", src."user__active", src."user__avatar_url", src."user__birthday", src."user__last_login", src."user__team_id", src."user__created_at", src."user__updated_at", src."user__created_by_user_id", src."user__updated_by_user_id", src."user__source_system", src."user__external_id", src."user__deleted", src."user__deleted_at", src."user__version" from src
),
i1 as (
    insert into bench_hand."user_credentials" select src.id, src.id, src."user_credentials__password", src."user_credentials__api_key", src."user_credentials__google_sub" from src
),
i2 as (
    insert into bench_hand."user_subscriptions" select src.id, src.id, src."user_subscriptions__stripe_customer_id", src."user_subscriptions__subscription_type", src."user_subscriptions__subscription_status", src."user_subscriptions__subscription_renews_at" from src
),
i3 as (
    insert into bench_hand."user_settings" select src.id, src.id, src."user_settings__privacy_mode", src."user_settings__daily_dash_daily" from src
),
i4 as (
    insert into bench_hand."user_roles" select src.id, src.id, src."user_roles__is_team_owner", src."user_roles__is_leader", src."user_roles__is_director", src."user_roles__is_mentor" from src
),
i5 as (
    insert into bench_hand."user_preferences" select src.id, src.id, src."user_preferences__timezone", src."user_preferences__theme", src."user_preferences__language", src."user_preferences__notify_email", src."user_preferences__notify_sms", src."user_preferences__dashboard_layout" from src
),
i6 as (
    insert into bench_hand."user_onboarding" select src.id, src.id, src."user_onboarding__onboarding_step", src."user_onboarding__onboarding_completed", src."user_onboarding__onboarding_completed_at", src."user_onboarding__welcome_video_watched" from src
)
select 1;
alter table bench_hand."user" add primary key (id);
alter table bench_hand."user_credentials" add primary key (id);
alter table bench_hand."user_subscriptions" add primary key (id);
alter table bench_hand."user_settings" add primary key (id);
alter table bench_hand."user_roles" add primary key (id);
alter table bench_hand."user_preferences" add primary key (id);
alter table bench_hand."user_onboarding" add primary key (id);

-- @section epilogue
alter table bench_hand."user_credentials" add foreign key ("user_id") references bench_hand."user" (id);
alter table bench_hand."user_subscriptions" add foreign key ("user_id") references bench_hand."user" (id);
alter table bench_hand."user_settings" add foreign key ("user_id") references bench_hand."user" (id);
alter table bench_hand."user_roles" add foreign key ("user_id") references bench_hand."user" (id);
alter table bench_hand."user_preferences" add foreign key ("user_id") references bench_hand."user" (id);
alter table bench_hand."user_onboarding" add foreign key ("user_id") references bench_hand."user" (id);
alter table bench_hand."agent_cap_data" add foreign key ("agent_id") references bench_hand."agent" (id);
alter table bench_hand."agent_commission" add foreign key ("agent_id") references bench_hand."agent" (id);
alter table bench_hand."agent_performance" add foreign key ("agent_id") references bench_hand."agent" (id);
alter table bench_hand."agent_hierarchy" add foreign key ("agent_id") references bench_hand."agent" (id);
alter table bench_hand."agent_rezen" add foreign key ("agent_id") references bench_hand."agent" (id);
alter table bench_hand."transaction_participants" add foreign key ("transaction_id") references bench_hand."transaction" (id);
alter table bench_hand."transaction_financials" add foreign key ("transaction_id") references bench_hand."transaction" (id);
alter table bench_hand."transaction_history" add foreign key ("transaction_id") references bench_hand."transaction" (id);
alter table bench_hand."transaction_tags" add foreign key ("transaction_id") references bench_hand."transaction" (id);
alter table bench_hand."network_hierarchy" add foreign key ("network_id") references bench_hand."network_member" (id);
alter table bench_hand."network_user_prefs" add foreign key ("network_id") references bench_hand."network_member" (id);
analyze;
