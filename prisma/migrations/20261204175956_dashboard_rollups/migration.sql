-- CreateTable
CREATE TABLE "rollup_queue" (
    "id" BIGSERIAL NOT NULL,
    "generationId" TEXT NOT NULL,
    "eventId" TEXT,
    "enqueuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollup_queue_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollup_hour" (
    "featureId" TEXT NOT NULL,
    "modelVersionId" TEXT NOT NULL,
    "armId" TEXT NOT NULL,
    "tier" "Tier" NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "opportunities" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "shown" INTEGER NOT NULL DEFAULT 0,
    "acceptedFull" INTEGER NOT NULL DEFAULT 0,
    "acceptedPartial" INTEGER NOT NULL DEFAULT 0,
    "typedThrough" INTEGER NOT NULL DEFAULT 0,
    "dismissed" INTEGER NOT NULL DEFAULT 0,
    "ignored" INTEGER NOT NULL DEFAULT 0,
    "acceptedChars" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "arc30s" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "arc2m" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "arc10m" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "retained2m" INTEGER NOT NULL DEFAULT 0,
    "editDistance2m" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "shownByLatency" INTEGER[],
    "acceptByLatency" INTEGER[],
    "serverIdx" INTEGER[],
    "serverCnt" INTEGER[],
    "clientIdx" INTEGER[],
    "clientCnt" INTEGER[],
    "personIdx" INTEGER[],
    "personCnt" INTEGER[],
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollup_hour_pkey" PRIMARY KEY ("featureId","modelVersionId","armId","tier","hour")
);

-- CreateTable
CREATE TABLE "rollup_state" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "lastFoldedAt" TIMESTAMP(3),
    "foldedTotal" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "rollup_state_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "rollup_queue_generationId_eventId_idx" ON "rollup_queue"("generationId", "eventId");

-- CreateIndex
CREATE INDEX "rollup_hour_hour_idx" ON "rollup_hour"("hour");

-- Rollup work is enqueued by statement-level triggers in the inserting transaction: an event and its
-- queue row become visible together, which is what lets the rollup job fold exactly once (see
-- src/features/dashboards/server/rollup-job.ts). Rows skipped by ON CONFLICT DO NOTHING are not in
-- the transition table, so a duplicate event is never enqueued.
CREATE FUNCTION rollup_enqueue_generations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "rollup_queue" ("generationId") SELECT "id" FROM new_rows;
  RETURN NULL;
END $$;

CREATE FUNCTION rollup_enqueue_feedback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "rollup_queue" ("generationId", "eventId") SELECT "generationId", "id" FROM new_rows;
  RETURN NULL;
END $$;

CREATE TRIGGER "generation_rollup_enqueue" AFTER INSERT ON "generation"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_enqueue_generations();

CREATE TRIGGER "feedback_event_rollup_enqueue" AFTER INSERT ON "feedback_event"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_enqueue_feedback();

-- Rows stored before this migration are folded by the job like new ones.
INSERT INTO "rollup_queue" ("generationId") SELECT "id" FROM "generation";
INSERT INTO "rollup_queue" ("generationId", "eventId") SELECT "generationId", "id" FROM "feedback_event";
