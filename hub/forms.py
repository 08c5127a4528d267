from django import forms
from django.contrib.auth.forms import UserCreationForm

from hub.models import ApiToken, User


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False)

    class Meta:
        model = User
        fields = ("username", "email")

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username


class TokenForm(forms.Form):
    name = forms.CharField(max_length=64)
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, help_text="leave empty for no expiry"
    )
