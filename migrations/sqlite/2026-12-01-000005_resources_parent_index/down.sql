DROP INDEX resources_parent_idx;
