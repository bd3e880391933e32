-- DropIndex
DROP INDEX "outbox_sink_deliveredAt_availableAt_idx";

-- CreateIndex
CREATE INDEX "outbox_undelivered_idx" ON "outbox"("sink", "availableAt") WHERE ("deliveredAt" IS NULL);

-- CreateIndex
CREATE INDEX "outbox_delivered_idx" ON "outbox"("deliveredAt") WHERE ("deliveredAt" IS NOT NULL);
