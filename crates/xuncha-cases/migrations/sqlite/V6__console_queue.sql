-- The console's queue on a million leads.
-- Listed most serious first (`sort=severity`, `leads list --sort severity`), newest first
-- within a severity, then by id: one index in that order, so a page is read off it and
-- its cursor resumes there, instead of every lead being sorted.
CREATE INDEX leads_severity_page ON leads (severity_rank DESC, first_seen DESC, lead_id);
-- The queue page counts its leads by category under the filter shown: with the category
-- in the filter's index, the count reads that index alone, not every matching row.
DROP INDEX leads_source;
CREATE INDEX leads_source ON leads (source, first_seen, category);
DROP INDEX leads_publisher;
CREATE INDEX leads_publisher ON leads (publisher, first_seen, category);
DROP INDEX leads_assigned;
CREATE INDEX leads_assigned ON leads (assigned_to, first_seen, category);
DROP INDEX leads_status;
CREATE INDEX leads_status ON leads (status, first_seen, category);
