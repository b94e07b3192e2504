"""The local authority's own Prevent and safeguarding action plan, kept by the lead."""
