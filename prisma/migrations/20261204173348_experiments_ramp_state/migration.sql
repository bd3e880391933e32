-- AlterTable
ALTER TABLE "experiment" ADD COLUMN     "alpha" DOUBLE PRECISION NOT NULL DEFAULT 0.05,
ADD COLUMN     "createdById" TEXT,
ADD COLUMN     "lastCheck" JSONB,
ADD COLUMN     "lastCheckedAt" TIMESTAMP(3),
ADD COLUMN     "rampStep" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "statusReason" TEXT,
ADD COLUMN     "stepStartedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "feature" ADD COLUMN     "holdoutBp" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE UNIQUE INDEX "experiment_one_live_per_feature" ON "experiment"("featureId") WHERE (status IN ('running', 'paused'));
