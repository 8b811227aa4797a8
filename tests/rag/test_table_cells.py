from rag.table_cells import asked_cells

ROW = (
    "Net sales — Total net sales; Three Months Ended June 25, 2022: 82,959; "
    "Three Months Ended June 26, 2021: 81,434; Nine Months Ended June 25, 2022: 304,182; "
    "Nine Months Ended"
)


def test_the_cell_whose_header_holds_most_of_the_question_is_kept_with_the_label():
    question = "What were total net sales for the three months ended June 25, 2022?"
    assert asked_cells(question, ROW) == (
        "Net sales — Total net sales; Three Months Ended June 25, 2022: 82,959"
    )
    # The year tells one column from another.
    assert asked_cells("Net sales in the nine months ended June 2022?", ROW) == (
        "Net sales — Total net sales; Nine Months Ended June 25, 2022: 304,182"
    )


def test_cells_that_match_equally_are_all_kept():
    question = "What were net sales for the period ended June 25, 2022?"
    assert asked_cells(question, ROW) == (
        "Net sales — Total net sales; Three Months Ended June 25, 2022: 82,959; "
        "Nine Months Ended June 25, 2022: 304,182"
    )


def test_a_quarter_is_a_statement_s_three_months():
    question = "How much were net sales in the quarter ended June 25, 2022?"
    assert asked_cells(question, ROW).endswith("; Three Months Ended June 25, 2022: 82,959")


def test_a_row_is_unchanged_where_no_header_answers_the_question():
    assert asked_cells("What were net sales?", ROW) == ROW


def test_what_is_no_named_row_is_unchanged():
    for text in (
        "Staff get 27 days of leave; ask HR: they know.",
        "Region | 2022 | 2021",
        "Net income; Three Months Ended June 25, 2022: $19,442",  # one cell: nothing to choose
    ):
        assert asked_cells("What was it in the three months ended June 25, 2022?", text) == text
