"""The SQLFlow API's request options and its default dialect, written once for the client and the local server.

The client takes them as snake_case keyword arguments and sends the API's field names; the local
server reads the API's field names back into its engine's options.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# The dialect the API assumes when a request names none (its `dbvendor` default).
DEFAULT_DBVENDOR = "dbvoracle"

# Python option name -> API field name, for every analysis/job option the client forwards.
OPTION_NAMES: Mapping[str, str] = MappingProxyType({
    "show_relation_type": "showRelationType",
    "simple_output": "simpleOutput",
    "ignore_record_set": "ignoreRecordSet",
    "ignore_function": "ignoreFunction",
    "show_constant_table": "showConstantTable",
    "show_link_only": "showLinkOnly",
    "hide_column": "hideColumn",
    "column_level": "columnLevel",
    "dataflow_of_aggregate_function": "dataflowOfAggregateFunction",
    "treat_arguments_in_count_function_as_direct_dataflow": "treatArgumentsInCountFunctionAsDirectDataflow",
    "show_transform": "showTransform",
    "normalize_identifier": "normalizeIdentifier",
    "return_full_relationship": "returnFullRelationship",
    "job_id": "jobId",
    "table_to_table": "tableToTable",
    "delimiter": "delimiter",
    "export_include_table": "export_include_table",
    "default_database": "defaultDatabase",
    "default_schema": "defaultSchema",
    "database": "database",
    "extracted_dbs_schemas": "extractedDbsSchemas",
    "excluded_dbs_schemas": "excludedDbsSchemas",
    "extracted_stored_procedures": "extractedStoredProcedures",
    "incremental": "incremental",
    "first_submit": "firstSubmit",
    "schedulable": "schedulable",
    "cron_expression": "cronExpression",
    "on_top": "onTop",
})

