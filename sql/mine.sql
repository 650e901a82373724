-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- rar_mine returns its rows in materialize mode (src/srf.rs), straight into
-- the tuplestore the executor reads; pgrx declares only the value-per-call
-- protocol, so the declaration is here. The C symbol is the Rust function
-- rar::api::mine::mine.
CREATE FUNCTION @extschema@."rar_mine"(
	"source" TEXT,
	"min_support" double precision DEFAULT 0.01,
	"min_confidence" double precision DEFAULT 0.5,
	"max_length" INT DEFAULT 4,
	"tid_column" TEXT DEFAULT NULL,
	"item_column" TEXT DEFAULT NULL,
	"max_consequent" INT DEFAULT 1,
	"min_lift" double precision DEFAULT 0.0,
	"min_length" INT DEFAULT 1,
	"support_of" TEXT DEFAULT 'rule',
	"split" TEXT DEFAULT NULL,
	"method" TEXT DEFAULT 'exact',
	"model" bigint DEFAULT NULL,
	"antecedent_threshold" double precision DEFAULT 0.01,
	"consequent_threshold" double precision DEFAULT NULL,
	"max_p_value" double precision DEFAULT NULL,
	"p_adjust" TEXT DEFAULT 'holm',
	"min_improvement" double precision DEFAULT NULL,
	"level" TEXT DEFAULT NULL,
	"min_interest" double precision DEFAULT NULL
) RETURNS TABLE (
	"antecedent" TEXT[],
	"consequent" TEXT[],
	"support" double precision,
	"confidence" double precision,
	"lift" double precision,
	"leverage" double precision,
	"conviction" double precision,
	"count" bigint,
	"model_score" double precision,
	"p_value" double precision
)
STABLE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'mine_wrapper';

SET LOCAL search_path = @extschema@, pg_temp;
