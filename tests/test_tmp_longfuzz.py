from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest
from tests.test_fuzz import mutated_files, test_parser_returns_a_table_or_a_parse_error_that_names_a_line as p, test_importer_imports_or_refuses_without_a_partial_write as i

long_parser = settings(max_examples=20000, deadline=None)(given(data=mutated_files)(p.hypothesis.inner_test))
long_import = pytest.mark.django_db(settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))(given(data=mutated_files, existing=st.booleans())(i.hypothesis.inner_test)))
test_long_parser = long_parser
test_long_import = long_import
