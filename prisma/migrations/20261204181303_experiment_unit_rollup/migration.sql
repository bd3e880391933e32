-- AlterTable
ALTER TABLE "experiment" ADD COLUMN     "latencyThresholdMs" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "experiment_unit_stat" (
    "experimentId" TEXT NOT NULL,
    "unitId" TEXT NOT NULL,
    "armId" TEXT NOT NULL,
    "suggestions" INTEGER NOT NULL DEFAULT 0,
    "fallbacks" INTEGER NOT NULL DEFAULT 0,
    "slow" INTEGER NOT NULL DEFAULT 0,
    "shown" INTEGER NOT NULL DEFAULT 0,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "dismissed" INTEGER NOT NULL DEFAULT 0,
    "arc" DOUBLE PRECISION NOT NULL DEFAULT 0,

    CONSTRAINT "experiment_unit_stat_pkey" PRIMARY KEY ("experimentId","unitId")
);

-- CreateTable
CREATE TABLE "experiment_fold_queue" (
    "id" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "ref" TEXT NOT NULL,

    CONSTRAINT "experiment_fold_queue_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "experiment_unit_stat_armId_idx" ON "experiment_unit_stat"("armId");

-- Generations and feedback of experiment arms are enqueued by statement-level triggers in the
-- inserting transaction, so a row and its queue entry become visible together and the guardrail
-- job folds each exactly once (src/features/experiments/server/unit-rollup.ts). Rows skipped by
-- ON CONFLICT DO NOTHING are not in the transition table, so duplicates are never enqueued.
CREATE FUNCTION experiment_enqueue_generations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "experiment_fold_queue" ("kind", "ref")
  SELECT 'g', "id" FROM new_rows WHERE "armId" IS NOT NULL;
  RETURN NULL;
END $$;

CREATE FUNCTION experiment_enqueue_feedback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "experiment_fold_queue" ("kind", "ref")
  SELECT 'f', n."id" FROM new_rows n JOIN "generation" g ON g."id" = n."generationId"
  WHERE g."armId" IS NOT NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER "generation_experiment_enqueue" AFTER INSERT ON "generation"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION experiment_enqueue_generations();

CREATE TRIGGER "feedback_event_experiment_enqueue" AFTER INSERT ON "feedback_event"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION experiment_enqueue_feedback();

-- Rows stored before this migration are folded like new ones.
INSERT INTO "experiment_fold_queue" ("kind", "ref")
SELECT 'g', "id" FROM "generation" WHERE "armId" IS NOT NULL;
INSERT INTO "experiment_fold_queue" ("kind", "ref")
SELECT 'f', e."id" FROM "feedback_event" e JOIN "generation" g ON g."id" = e."generationId"
WHERE g."armId" IS NOT NULL;
