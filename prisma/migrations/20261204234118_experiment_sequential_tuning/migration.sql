-- AlterTable
ALTER TABLE "experiment" ADD COLUMN     "sequentialTuning" INTEGER NOT NULL DEFAULT 5000;
