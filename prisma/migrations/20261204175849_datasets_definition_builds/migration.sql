-- CreateEnum
CREATE TYPE "DatasetBuildStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- AlterTable
ALTER TABLE "dataset" ADD COLUMN     "definition" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "dataset_version" ADD COLUMN     "watermark" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "dataset_build" (
    "id" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL,
    "watermark" TIMESTAMP(3) NOT NULL,
    "status" "DatasetBuildStatus" NOT NULL DEFAULT 'queued',
    "rowsScanned" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "versionId" TEXT,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "dataset_build_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "dataset_build_versionId_key" ON "dataset_build"("versionId");

-- CreateIndex
CREATE INDEX "dataset_build_status_createdAt_idx" ON "dataset_build"("status", "createdAt");

-- CreateIndex
CREATE INDEX "dataset_build_datasetId_createdAt_idx" ON "dataset_build"("datasetId", "createdAt");

-- AddForeignKey
ALTER TABLE "dataset_build" ADD CONSTRAINT "dataset_build_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_build" ADD CONSTRAINT "dataset_build_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "dataset_version"("id") ON DELETE SET NULL ON UPDATE CASCADE;
