-- CreateTable
CREATE TABLE "rollup_day" (
    "featureId" TEXT NOT NULL,
    "modelVersionId" TEXT NOT NULL,
    "armId" TEXT NOT NULL,
    "tier" "Tier" NOT NULL,
    "day" TIMESTAMP(3) NOT NULL,
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

    CONSTRAINT "rollup_day_pkey" PRIMARY KEY ("featureId","modelVersionId","armId","tier","day")
);

-- CreateIndex
CREATE INDEX "rollup_day_day_idx" ON "rollup_day"("day");

-- Day rows are written by the fold from now on; refold what is stored so hours and days agree.
TRUNCATE "rollup_hour", "rollup_queue";
UPDATE "rollup_state" SET "lastFoldedAt" = NULL, "foldedTotal" = 0;
INSERT INTO "rollup_queue" ("generationId") SELECT "id" FROM "generation";
INSERT INTO "rollup_queue" ("generationId", "eventId") SELECT "generationId", "id" FROM "feedback_event";
