-- Baseline for benchmarks/run.py: the extraction written the plain way, one CREATE TABLE AS
-- SELECT per V2 table with `xdo -> 'key'` per column, then keys; no dbt. Produced once from
-- the spec and committed; the generator does not maintain it.
drop schema if exists bench_hand cascade;
create schema bench_hand;

create table bench_hand."user" as
select
    v.id as "id",
    xano_fn.lower_trim(v.xdo -> 'email') as "email",
    xano_fn.trim_text(v.xdo -> 'first_name') as "first_name",
    xano_fn.trim_text(v.xdo -> 'last_name') as "last_name",
    xano_fn.trim_text(v.xdo -> 'cell_phone') as "cell_phone",
    xano_fn.to_jsonb_value(v.xdo -> 'avatar') as "avatar",
    xano_fn.to_boolean(v.xdo -> 'active') as "active",
    xano_fn.image_url(v.xdo -> 'avatar') as "avatar_url",
    xano_fn.to_date(v.xdo -> 'birthday') as "birthday",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'last_login') as "last_login",
    xano_fn.to_bigint(v.xdo -> 'team_id') as "team_id",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'created_at') as "created_at",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'updated_at') as "updated_at",
    xano_fn.to_bigint(v.xdo -> 'created_by_user_id') as "created_by_user_id",
    xano_fn.to_bigint(v.xdo -> 'updated_by_user_id') as "updated_by_user_id",
    xano_fn.to_text(v.xdo -> 'source_system') as "source_system",
    xano_fn.to_text(v.xdo -> 'external_id') as "external_id",
    xano_fn.to_boolean(v.xdo -> 'deleted') as "deleted",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'deleted_at') as "deleted_at",
    xano_fn.to_bigint(v.xdo -> 'version') as "version"
from xano_v1.mvpw1_41 v;
alter table bench_hand."user" add primary key (id);
create table bench_hand."user_credentials" as
select
    v.id as "id",
    v.id as "user_id",
    xano_fn.to_text(v.xdo -> 'password') as "password",
    xano_fn.to_text(v.xdo -> 'api_key') as "api_key",
    xano_fn.to_text(v.xdo -> 'google_sub') as "google_sub"
from xano_v1.mvpw1_41 v;
alter table bench_hand."user_credentials" add primary key (id);
create table bench_hand."user_subscriptions" as
select
    v.id as "id",
    v.id as "user_id",
    xano_fn.to_text(v.xdo -> 'stripe_customer_id') as "stripe_customer_id",
    xano_fn.to_text(v.xdo -> 'subscription_type') as "subscription_type",
    xano_fn.to_text(v.xdo -> 'subscription_status') as "subscription_status",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'subscription_renews_at') as "subscription_renews_at"
from xano_v1.mvpw1_41 v;
alter table bench_hand."user_subscriptions" add primary key (id);
create table bench_hand."user_settings" as
select
    v.id as "id",
    v.id as "user_id",
    xano_fn.to_boolean(v.xdo -> 'privacy_mode') as "privacy_mode",
    xano_fn.to_boolean(v.xdo -> 'daily_dash_daily') as "daily_dash_daily"
from xano_v1.mvpw1_41 v;
alter table bench_hand."user_settings" add primary key (id);
create table bench_hand."user_roles" as
select
    v.id as "id",
    v.id as "user_id",
    xano_fn.to_boolean(v.xdo -> 'is_team_owner') as "is_team_owner",
    xano_fn.to_boolean(v.xdo -> 'is_leader') as "is_leader",
    xano_fn.to_boolean(v.xdo -> 'is_director') as "is_director",
    xano_fn.to_boolean(v.xdo -> 'is_mentor') as "is_mentor"
from xano_v1.mvpw1_41 v;
alter table bench_hand."user_roles" add primary key (id);
create table bench_hand."user_preferences" as
select
    v.id as "id",
    v.id as "user_id",
    xano_fn.to_text(v.xdo -> 'timezone') as "timezone",
    xano_fn.to_text(v.xdo -> 'theme') as "theme",
    xano_fn.to_text(v.xdo -> 'language') as "language",
    xano_fn.to_boolean(v.xdo -> 'notify_email') as "notify_email",
    xano_fn.to_boolean(v.xdo -> 'notify_sms') as "notify_sms",
    xano_fn.to_jsonb_value(v.xdo -> 'dashboard_layout') as "dashboard_layout"
from xano_v1.mvpw1_41 v;
alter table bench_hand."user_preferences" add primary key (id);
create table bench_hand."user_onboarding" as
select
    v.id as "id",
    v.id as "user_id",
    xano_fn.to_bigint(v.xdo -> 'onboarding_step') as "onboarding_step",
    xano_fn.to_boolean(v.xdo -> 'onboarding_completed') as "onboarding_completed",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'onboarding_completed_at') as "onboarding_completed_at",
    xano_fn.to_boolean(v.xdo -> 'welcome_video_watched') as "welcome_video_watched"
from xano_v1.mvpw1_41 v;
alter table bench_hand."user_onboarding" add primary key (id);
create table bench_hand."agent" as
select
    v.id as "id",
    xano_fn.to_bigint(v.xdo -> 'user_id') as "user_id",
    xano_fn.trim_text(v.xdo -> 'name') as "name",
    xano_fn.lower_trim(v.xdo -> 'email') as "email",
    xano_fn.trim_text(v.xdo -> 'license_number') as "license_number",
    xano_fn.to_text(v.xdo -> 'license_state') as "license_state",
    xano_fn.to_text(v.xdo -> 'status') as "status",
    xano_fn.to_date(v.xdo -> 'join_date') as "join_date",
    xano_fn.to_jsonb_value(v.xdo -> 'photo') as "photo",
    xano_fn.image_url(v.xdo -> 'photo') as "photo_url",
    xano_fn.to_text(v.xdo -> 'notes') as "notes",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'created_at') as "created_at",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'updated_at') as "updated_at",
    xano_fn.to_bigint(v.xdo -> 'created_by_user_id') as "created_by_user_id",
    xano_fn.to_bigint(v.xdo -> 'updated_by_user_id') as "updated_by_user_id",
    xano_fn.to_text(v.xdo -> 'source_system') as "source_system",
    xano_fn.to_text(v.xdo -> 'external_id') as "external_id",
    xano_fn.to_boolean(v.xdo -> 'deleted') as "deleted",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'deleted_at') as "deleted_at",
    xano_fn.to_bigint(v.xdo -> 'version') as "version"
from xano_v1.mvpw1_52 v;
alter table bench_hand."agent" add primary key (id);
create table bench_hand."agent_cap_data" as
select
    v.id as "id",
    v.id as "agent_id",
    xano_fn.to_numeric(v.xdo -> 'cap_amount') as "cap_amount",
    xano_fn.to_numeric(v.xdo -> 'cap_paid') as "cap_paid",
    xano_fn.to_bigint(v.xdo -> 'cap_year') as "cap_year",
    xano_fn.to_date(v.xdo -> 'cap_reset_date') as "cap_reset_date"
from xano_v1.mvpw1_52 v;
alter table bench_hand."agent_cap_data" add primary key (id);
create table bench_hand."agent_commission" as
select
    v.id as "id",
    v.id as "agent_id",
    xano_fn.to_numeric(v.xdo -> 'commission_split') as "commission_split",
    xano_fn.to_text(v.xdo -> 'commission_plan') as "commission_plan",
    xano_fn.to_numeric(v.xdo -> 'commission_override') as "commission_override"
from xano_v1.mvpw1_52 v;
alter table bench_hand."agent_commission" add primary key (id);
create table bench_hand."agent_performance" as
select
    v.id as "id",
    v.id as "agent_id",
    xano_fn.to_numeric(v.xdo -> 'ytd_volume') as "ytd_volume",
    xano_fn.to_bigint(v.xdo -> 'ytd_units') as "ytd_units",
    xano_fn.to_numeric(v.xdo -> 'avg_days_to_close') as "avg_days_to_close",
    xano_fn.to_bigint(v.xdo -> 'rank') as "rank"
from xano_v1.mvpw1_52 v;
alter table bench_hand."agent_performance" add primary key (id);
create table bench_hand."agent_hierarchy" as
select
    v.id as "id",
    v.id as "agent_id",
    xano_fn.to_bigint(v.xdo -> 'sponsor_agent_id') as "sponsor_agent_id",
    xano_fn.to_bigint(v.xdo -> 'mentor_agent_id') as "mentor_agent_id",
    xano_fn.to_bigint(v.xdo -> 'team_id') as "team_id",
    xano_fn.to_bigint(v.xdo -> 'hierarchy_level') as "hierarchy_level"
from xano_v1.mvpw1_52 v;
alter table bench_hand."agent_hierarchy" add primary key (id);
create table bench_hand."agent_rezen" as
select
    v.id as "id",
    v.id as "agent_id",
    xano_fn.to_text(v.xdo -> 'rezen_id') as "rezen_id",
    xano_fn.to_text(v.xdo -> 'rezen_status') as "rezen_status",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'rezen_synced_at') as "rezen_synced_at",
    xano_fn.to_jsonb_value(v.xdo -> 'rezen_payload') as "rezen_payload"
from xano_v1.mvpw1_52 v;
alter table bench_hand."agent_rezen" add primary key (id);
create table bench_hand."transaction" as
select
    v.id as "id",
    xano_fn.to_bigint(v.xdo -> 'agent_id') as "agent_id",
    xano_fn.trim_text(v.xdo -> 'address') as "address",
    xano_fn.trim_text(v.xdo -> 'city') as "city",
    xano_fn.trim_text(v.xdo -> 'state') as "state",
    xano_fn.trim_text(v.xdo -> 'zip') as "zip",
    xano_fn.to_text(v.xdo -> 'status') as "status",
    xano_fn.to_text(v.xdo -> 'type') as "type",
    xano_fn.to_boolean(v.xdo -> 'closed') as "closed",
    xano_fn.trim_text(v.xdo -> 'mls_number') as "mls_number",
    xano_fn.to_text(v.xdo -> 'source') as "source",
    xano_fn.to_text(v.xdo -> 'notes') as "notes",
    xano_fn.to_date(v.xdo -> 'contract_date') as "contract_date",
    xano_fn.to_date(v.xdo -> 'close_date') as "close_date",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'created_at') as "created_at",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'updated_at') as "updated_at",
    xano_fn.to_bigint(v.xdo -> 'created_by_user_id') as "created_by_user_id",
    xano_fn.to_bigint(v.xdo -> 'updated_by_user_id') as "updated_by_user_id",
    xano_fn.to_text(v.xdo -> 'source_system') as "source_system",
    xano_fn.to_text(v.xdo -> 'external_id') as "external_id",
    xano_fn.to_boolean(v.xdo -> 'deleted') as "deleted",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'deleted_at') as "deleted_at",
    xano_fn.to_bigint(v.xdo -> 'version') as "version"
from xano_v1.mvpw1_57 v;
alter table bench_hand."transaction" add primary key (id);
create table bench_hand."transaction_participants" as
select
    v.id * 1000000 + e.ord as "id",
    v.id as "transaction_id",
    e.ord as "position",
    xano_fn.to_bigint(e.val -> 'agent_id') as "agent_id",
    xano_fn.to_text(e.val -> 'role') as "role",
    xano_fn.to_numeric(e.val -> 'split_pct') as "split_pct"
from xano_v1.mvpw1_57 v
cross join lateral jsonb_array_elements(case when jsonb_typeof(v.xdo -> 'participants') = 'array' then v.xdo -> 'participants' end) with ordinality e(val, ord);
alter table bench_hand."transaction_participants" add primary key (id);
create table bench_hand."transaction_financials" as
select
    v.id as "id",
    v.id as "transaction_id",
    xano_fn.to_numeric(v.xdo -> 'list_price') as "list_price",
    xano_fn.to_numeric(v.xdo -> 'sale_price') as "sale_price",
    xano_fn.to_numeric(v.xdo -> 'gross_commission') as "gross_commission",
    xano_fn.to_numeric(v.xdo -> 'net_commission') as "net_commission",
    xano_fn.to_numeric(v.xdo -> 'brokerage_fee') as "brokerage_fee",
    xano_fn.to_numeric(v.xdo -> 'referral_fee') as "referral_fee",
    xano_fn.to_numeric(v.xdo -> 'escrow_amount') as "escrow_amount",
    xano_fn.to_numeric(v.xdo -> 'commission_pct') as "commission_pct"
from xano_v1.mvpw1_57 v;
alter table bench_hand."transaction_financials" add primary key (id);
create table bench_hand."transaction_history" as
select
    v.id * 1000000 + e.ord as "id",
    v.id as "transaction_id",
    e.ord as "position",
    xano_fn.to_text(e.val -> 'event') as "event",
    xano_fn.epoch_ms_to_timestamptz(e.val -> 'at') as "at",
    xano_fn.to_bigint(e.val -> 'by_user_id') as "by_user_id"
from xano_v1.mvpw1_57 v
cross join lateral jsonb_array_elements(case when jsonb_typeof(v.xdo -> 'history') = 'array' then v.xdo -> 'history' end) with ordinality e(val, ord);
alter table bench_hand."transaction_history" add primary key (id);
create table bench_hand."transaction_tags" as
select
    v.id * 1000000 + e.ord as "id",
    v.id as "transaction_id",
    e.ord as "position",
    xano_fn.trim_text(e.val) as "tag"
from xano_v1.mvpw1_57 v
cross join lateral jsonb_array_elements(case when jsonb_typeof(v.xdo -> 'tags') = 'array' then v.xdo -> 'tags' end) with ordinality e(val, ord);
alter table bench_hand."transaction_tags" add primary key (id);
create table bench_hand."network_member" as
select
    v.id as "id",
    xano_fn.to_bigint(v.xdo -> 'user_id') as "user_id",
    xano_fn.to_bigint(v.xdo -> 'member_user_id') as "member_user_id",
    xano_fn.to_text(v.xdo -> 'status') as "status",
    xano_fn.to_text(v.xdo -> 'tier') as "tier",
    xano_fn.to_bigint(v.xdo -> 'rank') as "rank",
    xano_fn.trim_text(v.xdo -> 'invite_code') as "invite_code",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'joined_at') as "joined_at",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'last_activity_at') as "last_activity_at",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'created_at') as "created_at",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'updated_at') as "updated_at",
    xano_fn.to_bigint(v.xdo -> 'created_by_user_id') as "created_by_user_id",
    xano_fn.to_bigint(v.xdo -> 'updated_by_user_id') as "updated_by_user_id",
    xano_fn.to_text(v.xdo -> 'source_system') as "source_system",
    xano_fn.to_text(v.xdo -> 'external_id') as "external_id",
    xano_fn.to_boolean(v.xdo -> 'deleted') as "deleted",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'deleted_at') as "deleted_at",
    xano_fn.to_bigint(v.xdo -> 'version') as "version"
from xano_v1.mvpw1_48 v;
alter table bench_hand."network_member" add primary key (id);
create table bench_hand."network_hierarchy" as
select
    v.id as "id",
    v.id as "network_id",
    xano_fn.to_bigint(v.xdo -> 'sponsor_user_id') as "sponsor_user_id",
    xano_fn.to_bigint(v.xdo -> 'parent_network_id') as "parent_network_id",
    xano_fn.to_bigint(v.xdo -> 'level') as "level",
    xano_fn.to_text(v.xdo -> 'path') as "path"
from xano_v1.mvpw1_48 v;
alter table bench_hand."network_hierarchy" add primary key (id);
create table bench_hand."network_user_prefs" as
select
    v.id as "id",
    v.id as "network_id",
    xano_fn.to_boolean(v.xdo -> 'pref_email_digest') as "pref_email_digest",
    xano_fn.to_boolean(v.xdo -> 'pref_show_downline') as "pref_show_downline",
    xano_fn.to_boolean(v.xdo -> 'pref_notify_new_member') as "pref_notify_new_member",
    xano_fn.to_text(v.xdo -> 'pref_digest_frequency') as "pref_digest_frequency"
from xano_v1.mvpw1_48 v;
alter table bench_hand."network_user_prefs" add primary key (id);
create table bench_hand."participant" as
select
    v.id as "id",
    xano_fn.to_bigint(v.xdo -> 'transaction_id') as "transaction_id",
    xano_fn.to_bigint(v.xdo -> 'agent_id') as "agent_id",
    xano_fn.to_bigint(v.xdo -> 'user_id') as "user_id",
    xano_fn.to_text(v.xdo -> 'role') as "role",
    xano_fn.to_numeric(v.xdo -> 'split_pct') as "split_pct",
    xano_fn.to_numeric(v.xdo -> 'amount') as "amount",
    xano_fn.to_boolean(v.xdo -> 'paid') as "paid",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'paid_at') as "paid_at",
    xano_fn.to_text(v.xdo -> 'status') as "status",
    xano_fn.to_text(v.xdo -> 'notes') as "notes",
    xano_fn.to_text(v.xdo -> 'commission_type') as "commission_type",
    xano_fn.to_numeric(v.xdo -> 'cap_contribution') as "cap_contribution",
    xano_fn.to_numeric(v.xdo -> 'fee_amount') as "fee_amount",
    xano_fn.to_numeric(v.xdo -> 'tax_withheld') as "tax_withheld",
    xano_fn.to_bigint(v.xdo -> 'approved_by_user_id') as "approved_by_user_id",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'approved_at') as "approved_at",
    xano_fn.trim_text(v.xdo -> 'invoice_number') as "invoice_number",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'created_at') as "created_at",
    xano_fn.to_bigint(v.xdo -> 'created_by_user_id') as "created_by_user_id",
    xano_fn.to_bigint(v.xdo -> 'updated_by_user_id') as "updated_by_user_id",
    xano_fn.to_text(v.xdo -> 'source_system') as "source_system",
    xano_fn.to_text(v.xdo -> 'external_id') as "external_id",
    xano_fn.to_boolean(v.xdo -> 'deleted') as "deleted",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'deleted_at') as "deleted_at",
    xano_fn.to_bigint(v.xdo -> 'version') as "version"
from xano_v1.mvpw1_61 v;
alter table bench_hand."participant" add primary key (id);
create table bench_hand."participant_paid" as
select
    v.id as "id",
    xano_fn.to_bigint(v.xdo -> 'participant_id') as "participant_id",
    xano_fn.to_bigint(v.xdo -> 'transaction_id') as "transaction_id",
    xano_fn.to_numeric(v.xdo -> 'amount') as "amount",
    xano_fn.to_numeric(v.xdo -> 'fee_amount') as "fee_amount",
    xano_fn.to_numeric(v.xdo -> 'net_amount') as "net_amount",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'paid_at') as "paid_at",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'cleared_at') as "cleared_at",
    xano_fn.to_text(v.xdo -> 'method') as "method",
    xano_fn.trim_text(v.xdo -> 'reference') as "reference",
    xano_fn.to_text(v.xdo -> 'stripe_payment_id') as "stripe_payment_id",
    xano_fn.trim_text(v.xdo -> 'check_number') as "check_number",
    xano_fn.to_text(v.xdo -> 'currency') as "currency",
    xano_fn.to_text(v.xdo -> 'payout_account_last4') as "payout_account_last4",
    xano_fn.trim_text(v.xdo -> 'batch_id') as "batch_id",
    xano_fn.to_text(v.xdo -> 'status') as "status",
    xano_fn.to_bigint(v.xdo -> 'approved_by_user_id') as "approved_by_user_id",
    xano_fn.to_text(v.xdo -> 'memo') as "memo",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'created_at') as "created_at",
    xano_fn.to_bigint(v.xdo -> 'created_by_user_id') as "created_by_user_id",
    xano_fn.to_bigint(v.xdo -> 'updated_by_user_id') as "updated_by_user_id",
    xano_fn.to_text(v.xdo -> 'source_system') as "source_system",
    xano_fn.to_text(v.xdo -> 'external_id') as "external_id",
    xano_fn.to_boolean(v.xdo -> 'deleted') as "deleted",
    xano_fn.epoch_ms_to_timestamptz(v.xdo -> 'deleted_at') as "deleted_at",
    xano_fn.to_bigint(v.xdo -> 'version') as "version"
from xano_v1.mvpw1_62 v;
alter table bench_hand."participant_paid" add primary key (id);
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
