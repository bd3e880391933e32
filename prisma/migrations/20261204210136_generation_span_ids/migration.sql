-- AlterTable
ALTER TABLE "generation" ADD COLUMN     "parentSpanId" TEXT,
ADD COLUMN     "spanId" TEXT;
